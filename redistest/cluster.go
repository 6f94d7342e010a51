package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of real redis-server processes on loopback,
// built with `redis-cli --cluster create`, for failover tests.
type Cluster struct {
	t        testing.TB
	Nodes    []*Server
	replicas int
}

// StartCluster starts masters×(1+replicas) redis-server processes with
// cluster mode on and the given node timeout, joins them with redis-cli
// (each master gets replicas replicas) and waits until every node reports
// cluster_state:ok and every replica is in sync. extra are further
// redis-server arguments for every node (e.g. "--cluster-require-full-coverage", "no").
func StartCluster(t testing.TB, masters, replicas int, nodeTimeout time.Duration, extra ...string) *Cluster {
	t.Helper()
	cli := Binary(t, "redis-cli")
	c := &Cluster{t: t, replicas: replicas}
	create := []string{"--cluster", "create"}
	for range masters * (1 + replicas) {
		// The bus port is chosen like the client port, not left at
		// port+10000, which may be taken or past 65535.
		args := append([]string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(FreePort(t)),
			"--cluster-node-timeout", strconv.FormatInt(nodeTimeout.Milliseconds(), 10)}, extra...)
		s := StartServer(t, args...)
		c.Nodes = append(c.Nodes, s)
		create = append(create, s.Addr())
	}
	create = append(create, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, create...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitOK(15 * time.Second)
	return c
}

// URL is the cluster's redis+cluster:// URL naming every node.
func (c *Cluster) URL() string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}

// Node returns the node listening on addr (host:port), or nil.
func (c *Cluster) Node(addr string) *Server {
	for _, n := range c.Nodes {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

// WaitOK waits until every node reports cluster_state:ok, knows every
// other node without a fail or handshake flag, and every replica's link to
// its master is up, and CLUSTER SLOTS lists every replica.
func (c *Cluster) WaitOK(within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	var why string
	for time.Now().Before(deadline) {
		if why = c.notOK(); why == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("redis cluster not ok within %s: %s", within, why)
}

func (c *Cluster) notOK() string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, n := range c.Nodes {
		cl := redis.NewClient(&redis.Options{Protocol: 2, Addr: n.Addr(), MaxRetries: -1})
		info, err := cl.ClusterInfo(ctx).Result()
		if err == nil && !strings.Contains(info, "cluster_state:ok") {
			err = fmt.Errorf("cluster_state not ok")
		}
		var nodes string
		if err == nil {
			nodes, err = cl.ClusterNodes(ctx).Result()
		}
		var repl string
		if err == nil {
			repl, err = cl.Info(ctx, "replication").Result()
		}
		var slots []redis.ClusterSlot
		if err == nil {
			slots, err = cl.ClusterSlots(ctx).Result()
		}
		for _, s := range slots {
			if err == nil && len(s.Nodes) != 1+c.replicas {
				err = fmt.Errorf("slots %d-%d served by %d nodes", s.Start, s.End, len(s.Nodes))
			}
		}
		_ = cl.Close()
		switch {
		case err != nil:
			return n.Addr() + ": " + err.Error()
		case strings.Count(strings.TrimSpace(nodes), "\n")+1 != len(c.Nodes):
			return n.Addr() + " does not know every node yet"
		case strings.Contains(nodes, "fail") || strings.Contains(nodes, "handshake") || strings.Contains(nodes, "noaddr"):
			return n.Addr() + " sees a failing node: " + nodes
		case strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up"):
			return n.Addr() + ": replica not in sync"
		}
	}
	return ""
}

// MasterOf returns the master serving key's slot and its first replica,
// as the cluster reports them (CLUSTER SLOTS).
func (c *Cluster) MasterOf(key string) (master, replica *Server) {
	c.t.Helper()
	cl := redis.NewClient(&redis.Options{Protocol: 2, Addr: c.Nodes[0].Addr()})
	defer cl.Close()
	ctx := context.Background()
	slot, err := cl.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		c.t.Fatal(err)
	}
	slots, err := cl.ClusterSlots(ctx).Result()
	if err != nil {
		c.t.Fatal(err)
	}
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) && len(s.Nodes) > 1 {
			return c.Node(s.Nodes[0].Addr), c.Node(s.Nodes[1].Addr)
		}
	}
	c.t.Fatalf("no master with a replica serves slot %d of %s: %v", slot, key, slots)
	return nil, nil
}

// IsMaster reports whether s answers ROLE with master (false when it does
// not answer within 200 ms).
func IsMaster(s *Server) bool {
	cl := redis.NewClient(&redis.Options{Protocol: 2, Addr: s.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	role, err := cl.Do(ctx, "ROLE").Slice()
	return err == nil && len(role) > 0 && role[0] == "master"
}
