package redistest

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelSet is a master, its replica and redis-sentinel processes
// watching them, all real processes on loopback, for failover tests.
type SentinelSet struct {
	t         testing.TB
	Name      string
	Master    *Server
	Replica   *Server
	Sentinels []*Server
}

// StartSentinelSet starts a master, one replica and n sentinels monitoring
// the master as name with quorum n/2+1, the given down-after and
// failover-timeout, and waits until the replica is in sync and every
// sentinel knows the replica and the other sentinels.
func StartSentinelSet(t testing.TB, name string, n int, downAfter, failoverTimeout time.Duration) *SentinelSet {
	t.Helper()
	s := &SentinelSet{t: t, Name: name}
	s.Master = StartServer(t)
	s.Replica = StartServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(s.Master.Port))
	rc := s.Replica.Client()
	waitFor(t, 10*time.Second, "replica in sync", func() bool {
		info, err := rc.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	for range n {
		s.Sentinels = append(s.Sentinels, StartSentinelProcess(t,
			"sentinel monitor "+name+" 127.0.0.1 "+strconv.Itoa(s.Master.Port)+" "+strconv.Itoa(n/2+1),
			"sentinel down-after-milliseconds "+name+" "+strconv.FormatInt(downAfter.Milliseconds(), 10),
			"sentinel failover-timeout "+name+" "+strconv.FormatInt(failoverTimeout.Milliseconds(), 10),
			"sentinel parallel-syncs "+name+" 1"))
	}
	waitFor(t, 15*time.Second, "sentinels know each other and the replica", func() bool {
		for _, sn := range s.Sentinels {
			c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr()})
			others, err1 := c.Sentinels(context.Background(), name).Result()
			replicas, err2 := c.Replicas(context.Background(), name).Result()
			_ = c.Close()
			if err1 != nil || err2 != nil || len(others) != n-1 || len(replicas) != 1 {
				return false
			}
		}
		return true
	})
	return s
}

// URL is the set's redis+sentinel:// URL naming every sentinel.
func (s *SentinelSet) URL() string {
	addrs := make([]string, len(s.Sentinels))
	for i, n := range s.Sentinels {
		addrs[i] = n.Addr()
	}
	return "redis+sentinel://" + strings.Join(addrs, ",") + "/" + s.Name
}

// Reports tells whether any sentinel names addr as the master: the
// earliest moment a client asking the sentinels can learn of a switch.
func (s *SentinelSet) Reports(addr string) bool {
	for _, sn := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sn.Addr(), MaxRetries: -1})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		hp, err := c.GetMasterAddrByName(ctx, s.Name).Result()
		cancel()
		_ = c.Close()
		if err == nil && len(hp) == 2 && net.JoinHostPort(hp[0], hp[1]) == addr {
			return true
		}
	}
	return false
}

func waitFor(t testing.TB, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
