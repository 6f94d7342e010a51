package redisconn

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
)

func TestParseURLForms(t *testing.T) {
	cases := []struct {
		url     string
		addrs   int
		master  string
		cluster bool
		db      int
		pass    string
		tls     bool
	}{
		{url: "redis://localhost:6379/2", addrs: 1, db: 2},
		{url: "rediss://:pw@localhost:6380", addrs: 1, pass: "pw", tls: true},
		{url: "redis+sentinel://:pw@s1:26379,s2:26379/mymaster/1", addrs: 2, master: "mymaster", db: 1, pass: "pw"},
		{url: "redis+cluster://n1:7000,n2:7001,n3:7002", addrs: 3, cluster: true},
		{url: "rediss+cluster://n1:7000", addrs: 1, cluster: true, tls: true},
	}
	for _, tc := range cases {
		o, err := ParseURL(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if len(o.Addrs) != tc.addrs || o.MasterName != tc.master || o.IsClusterMode != tc.cluster || o.DB != tc.db || o.Password != tc.pass || (o.TLSConfig != nil) != tc.tls {
			t.Errorf("%s: got %+v", tc.url, o)
		}
	}
}

func TestParseURLErrorsDoNotLeakPassword(t *testing.T) {
	for _, u := range []string{"redis+sentinel://:hunter2@h:1", "ftp://:hunter2@h:1", "redis://:hunter2@h:1/notadb"} {
		_, err := ParseURL(u)
		if err == nil {
			t.Fatalf("%s: want error", u)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("error leaks password: %v", err)
		}
	}
}

func TestEmbeddedAnswersPing(t *testing.T) {
	c, err := Open("", time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.Embedded() {
		t.Fatal("want embedded")
	}
	if err := c.Ping(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestClosedPortFailsPingButOpens(t *testing.T) {
	c, err := Open("redis://127.0.0.1:1", 100*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(context.Background(), 200*time.Millisecond); err == nil {
		t.Fatal("ping to a closed port succeeded")
	}
}

// TestReadyWithoutROLE: a server that lacks ROLE and INFO memory (here
// miniredis behind a redis:// URL, like some proxies and managed services)
// is ready when it answers, not refused as unavailable.
func TestReadyWithoutROLE(t *testing.T) {
	m := miniredis.RunT(t)
	c, err := Open("redis://"+m.Addr(), time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Ping(context.Background(), time.Second); err != nil {
		t.Fatalf("ready check: %v", err)
	}
	m.Close()
	if err := c.Ping(context.Background(), 300*time.Millisecond); err == nil {
		t.Fatal("ready with the server gone")
	}
}
