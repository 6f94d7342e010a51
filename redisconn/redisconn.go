// Package redisconn opens the Redis connection scimgate keeps its data in:
// a single server, Sentinel or Cluster through one go-redis UniversalClient,
// or, when no URL is configured, an embedded in-memory miniredis.
//
// URL forms:
//
//	redis://[user:pass@]host:port[/db]            single server
//	rediss://...                                   single server over TLS
//	redis+sentinel://[user:pass@]h1:26379,h2:26379/master[/db]
//	redis+cluster://[user:pass@]h1:6379,h2:6379
//
// The rediss+sentinel and rediss+cluster forms use TLS.
package redisconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Conn is an open Redis connection.
type Conn struct {
	Client   redis.UniversalClient
	embedded *miniredis.Miniredis
	// single is the client's options when it reaches one Redis server
	// (not Sentinel or Cluster, not the embedded one).
	single *redis.Options
}

// Single returns a copy of the client's options when it reaches one Redis
// server (not through Sentinel or Cluster, not the embedded miniredis),
// for a second client to the same server; ok is false otherwise.
func (c *Conn) Single() (opts *redis.Options, ok bool) {
	if c.single == nil {
		return nil, false
	}
	o := *c.single
	return &o, true
}

// Embedded reports whether the data lives in the in-process miniredis.
func (c *Conn) Embedded() bool { return c.embedded != nil }

// Close closes the client and stops the embedded server, if any.
func (c *Conn) Close() error {
	err := c.Client.Close()
	if c.embedded != nil {
		c.embedded.Close()
	}
	return err
}

// Open connects to the Redis at rawURL, or starts an embedded one when rawURL
// is empty. It does not require the server to be up: go-redis reconnects on
// demand, so a gateway started before its Redis recovers by itself.
func Open(rawURL string, dialTimeout time.Duration, log *slog.Logger) (*Conn, error) {
	if rawURL == "" {
		m, err := miniredis.Run()
		if err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		log.Warn("no redis.url configured: using an embedded in-memory Redis; all data is lost when the gateway exits")
		return &Conn{Client: newClient(&redis.UniversalOptions{Addrs: []string{m.Addr()}}), embedded: m}, nil
	}
	opts, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout = dialTimeout
	c := &Conn{Client: newClient(opts)}
	if !opts.IsClusterMode && opts.MasterName == "" {
		c.single = opts.Simple()
	}
	return c, nil
}

// clusterReloadInterval is how often a cluster client refreshes its slot
// map even without errors (go-redis' default is 60 s). A refresh is one
// CLUSTER SLOTS; errors trigger one at once (see reloadOnFault).
const clusterReloadInterval = 2 * time.Second

// newClient builds the client for opts with bounded waits: every command
// honours its context's deadline (ContextTimeoutEnabled; without it the
// read timeout applies whatever the deadline), and a cluster client
// refreshes its topology promptly when a node fails. It speaks RESP2: with
// RESP3, go-redis checks the connection for push notifications before and
// after every command (a read attempt each time; 5 % of the gateway's CPU
// in a sync profile), and scimgate uses no RESP3 feature.
func newClient(opts *redis.UniversalOptions) redis.UniversalClient {
	opts.ContextTimeoutEnabled = true
	opts.Protocol = 2
	switch {
	case opts.IsClusterMode:
		co := opts.Cluster()
		co.ClusterStateReloadInterval = clusterReloadInterval
		cc := redis.NewClusterClient(co)
		cc.AddHook(reloadOnFault(cc, 250*time.Millisecond))
		return cc
	case opts.MasterName != "":
		return redis.NewFailoverClient(opts.Failover())
	default:
		return redis.NewClient(opts.Simple())
	}
}

// ParseURL turns a scimgate Redis URL into UniversalOptions. Errors never
// repeat the URL, which may hold a password.
func ParseURL(rawURL string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("redis url: malformed")
	}
	switch u.Scheme {
	case "redis", "rediss":
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", redactErr(err))
		}
		return &redis.UniversalOptions{
			Addrs: []string{o.Addr}, Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: o.TLSConfig,
		}, nil
	case "redis+sentinel", "rediss+sentinel":
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if parts[0] == "" {
			return nil, errors.New("redis url: sentinel URL needs the master name as its path")
		}
		o := &redis.UniversalOptions{Addrs: strings.Split(u.Host, ","), MasterName: parts[0]}
		if len(parts) > 1 {
			db, err := strconv.Atoi(parts[1])
			if err != nil {
				return nil, errors.New("redis url: database must be a number")
			}
			o.DB = db
		}
		setAuth(o, u)
		if u.Scheme == "rediss+sentinel" {
			o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		return o, nil
	case "redis+cluster", "rediss+cluster":
		o := &redis.UniversalOptions{Addrs: strings.Split(u.Host, ","), IsClusterMode: true}
		setAuth(o, u)
		if u.Scheme == "rediss+cluster" {
			o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		return o, nil
	default:
		return nil, fmt.Errorf("redis url: unsupported scheme %q", u.Scheme)
	}
}

func setAuth(o *redis.UniversalOptions, u *url.URL) {
	if u.User == nil {
		return
	}
	o.Username = u.User.Username()
	o.Password, _ = u.User.Password()
	if o.Password != "" {
		o.SentinelPassword = o.Password
	}
}

// redactErr drops go-redis errors' echo of the URL.
func redactErr(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "://"); i >= 0 {
		return errors.New("invalid URL")
	}
	return err
}
