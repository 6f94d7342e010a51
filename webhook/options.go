package webhook

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Subscriber is one webhook endpoint.
type Subscriber struct {
	// Name identifies the subscriber in Redis keys (consumer group,
	// dead-letter stream, lease) and logs. It is derived from the URL, so
	// changing a URL makes a new subscriber that starts with new events.
	Name string
	URL  string
	// Directories limits the subscriber to these directories, each named
	// by id or (case-insensitively) by name; empty: every directory. A
	// name is matched when the directory list is read, so renaming a
	// directory away from the name stops its delivery.
	Directories []string
}

// Wants reports whether s receives the events of directory d.
func (s Subscriber) Wants(id, name string) bool {
	if len(s.Directories) == 0 {
		return true
	}
	for _, ref := range s.Directories {
		if ref == id || strings.EqualFold(ref, name) {
			return true
		}
	}
	return false
}

// NewSubscriber returns the subscriber for an http(s) URL. Its name is the
// URL's host (port included, other characters than letters, digits, '.'
// and '-' replaced by '_') and the first 8 hex digits of the URL's
// SHA-256, e.g. "app.example.com-1a2b3c4d": readable, stable across
// restarts and replicas, and distinct for two URLs on one host.
func NewSubscriber(raw string) (Subscriber, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Subscriber{}, fmt.Errorf("webhook URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Subscriber{}, errors.New("webhook URL must be http(s)://host/...")
	}
	host := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, u.Host)
	sum := sha256.Sum256([]byte(raw))
	return Subscriber{Name: host + "-" + hex.EncodeToString(sum[:4]), URL: raw}, nil
}

// DefaultMaxDirectories is the default Options.MaxDirectories. Each
// delivered directory costs, per subscriber, one goroutine (two while
// delivering), a lease renewal every LeaseTTL/3 and, while idle, one
// non-blocking read every PollInterval: with the defaults about 2.3 Redis
// commands per second per directory and subscriber on the delivering
// replica, and 0.5 on each standby one.
const DefaultMaxDirectories = 10_000

// Options configures a Worker or a Supervisor.
type Options struct {
	// Prefix is the Redis key prefix (config redis.prefix).
	Prefix      string
	Subscribers []Subscriber
	// Secret keys the HMAC-SHA256 body signature. Never logged.
	Secret []byte
	// MaxAttempts is the number of deliveries tried before an entry is
	// dead-lettered (default 8).
	MaxAttempts int
	// BackoffInitial is the wait after the first failed attempt; it doubles
	// after each further failure up to BackoffMax (defaults 1s and 1m).
	// Each wait is drawn uniformly from [d/2, d].
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// Timeout bounds one HTTP attempt (default 10s). Stopping a worker
	// waits for the attempt in flight, so also bounds that wait.
	Timeout time.Duration
	// Consumer names this worker in the consumer groups; it must differ
	// between replicas (default "<hostname>-<pid>-<random>").
	Consumer string
	// LeaseTTL is how long the delivering replica's lease lasts without
	// renewal: the fail-over time after a crash (default 10s). Standby
	// replicas try to take it over every LeaseTTL/5.
	LeaseTTL time.Duration
	// Block is the longest XREADGROUP wait (default 2s). New entries wake
	// the reader at once; Block only bounds how long shutdown waits.
	Block time.Duration
	// BatchSize is the number of entries read at once (default 32).
	BatchSize int64
	// DLQMaxLen is the approximate length each dead-letter stream is
	// trimmed to (default 100000).
	DLQMaxLen int64
	// PollInterval is how often the worker of a directory other than the
	// default one looks for new events while its stream is idle (default
	// 500ms): those read without blocking, so thousands of directories do
	// not each hold a pooled Redis connection. The default directory's
	// worker blocks (Block) and delivers at once.
	PollInterval time.Duration
	// ListInterval is how often a Supervisor re-reads the directory list
	// (default 5s): a new directory's events are delivered, and a deleted
	// one's worker stops, within it.
	ListInterval time.Duration
	// MaxDirectories caps the directories a Supervisor delivers (default
	// DefaultMaxDirectories); past it the others are logged and skipped.
	MaxDirectories int
	// Client sends the requests (default: a client without redirects).
	Client *http.Client
	Log    *slog.Logger
	// Now is the clock for signature timestamps (default time.Now).
	Now func() time.Time
}

func (o *Options) defaults() error {
	if len(o.Subscribers) == 0 {
		return errors.New("webhook: no subscribers")
	}
	if len(o.Secret) == 0 {
		return errors.New("webhook: empty signing secret")
	}
	seen := map[string]bool{}
	for _, s := range o.Subscribers {
		if s.Name == "" || s.URL == "" {
			return fmt.Errorf("webhook: subscriber %q without name or URL", s.URL)
		}
		if seen[s.Name] {
			return fmt.Errorf("webhook: subscriber %s listed twice", s.Name)
		}
		seen[s.Name] = true
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.BackoffInitial <= 0 {
		o.BackoffInitial = time.Second
	}
	if o.BackoffMax < o.BackoffInitial {
		o.BackoffMax = max(time.Minute, o.BackoffInitial)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Consumer == "" {
		c, err := defaultConsumer()
		if err != nil {
			return err
		}
		o.Consumer = c
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 10 * time.Second
	}
	if o.Block <= 0 {
		o.Block = 2 * time.Second
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	if o.ListInterval <= 0 {
		o.ListInterval = 5 * time.Second
	}
	if o.MaxDirectories <= 0 {
		o.MaxDirectories = DefaultMaxDirectories
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 32
	}
	if o.DLQMaxLen <= 0 {
		o.DLQMaxLen = 100000
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// defaultConsumer is unique per process: the hostname tells operators
// which replica holds an entry, the random part keeps two processes on
// one host apart.
func defaultConsumer() (string, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "gateway"
	}
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook: consumer name: %w", err)
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b)), nil
}
