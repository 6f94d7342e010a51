package upstream

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func writeToken(t *testing.T, path, tok string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFileTokenReloadsOnInterval: the token file is re-read once the
// interval has passed, not before; a file that cannot be read (or is
// empty) keeps the last good token.
func TestFileTokenReloadsOnInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	writeToken(t, path, "tok-1")
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ft, err := newFileToken(path, 5*time.Second, clock)
	if err != nil {
		t.Fatal(err)
	}
	get := func() string {
		tok, err := ft.Token()
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	writeToken(t, path, "tok-2")
	advance(4 * time.Second)
	if got := get(); got != "tok-1" {
		t.Fatalf("re-read before the interval: %q", got)
	}
	advance(time.Second)
	if got := get(); got != "tok-2" {
		t.Fatalf("not re-read after the interval: %q", got)
	}
	for _, broken := range []func(){
		func() { writeToken(t, path, "  ") },
		func() { _ = os.Remove(path) },
	} {
		broken()
		advance(5 * time.Second)
		if got := get(); got != "tok-2" {
			t.Fatalf("a broken file replaced the token: %q", got)
		}
	}
	if _, err := newFileToken(path, time.Second, clock); err == nil {
		t.Fatal("a missing token file was accepted at start")
	}
}

// TestClientTokenRotationOn401: the upstream starts accepting only a new
// token (rotated in the file); the first request refused with 401 makes
// the client re-read the file and resend once, with its body, under the
// new token, long before the reload interval. A second rotation within the
// interval is not re-read on a 401 again (at most once per interval): the
// 401 passes through.
func TestClientTokenRotationOn401(t *testing.T) {
	var want atomic.Value
	want.Store("Bearer tok-1")
	var mu sync.Mutex
	var seen []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization")+" "+string(b))
		mu.Unlock()
		if r.Header.Get("Authorization") != want.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer up.Close()
	path := filepath.Join(t.TempDir(), "token")
	writeToken(t, path, "tok-1")
	c, err := NewClient(Config{URL: up.URL, TokenFile: path, Timeout: 2 * time.Second, TokenReload: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	post := func() int {
		req, _ := http.NewRequest(http.MethodPost, up.URL+"/Users", strings.NewReader(`{"userName":"a"}`))
		resp, err := c.do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(); code != 201 {
		t.Fatalf("first token: %d", code)
	}
	writeToken(t, path, "tok-2")
	want.Store("Bearer tok-2")
	if code := post(); code != 201 {
		t.Fatalf("after rotation: %d (seen %q)", code, seen)
	}
	mu.Lock()
	last := seen[len(seen)-2:]
	mu.Unlock()
	if last[0] != `Bearer tok-1 {"userName":"a"}` || last[1] != `Bearer tok-2 {"userName":"a"}` {
		t.Fatalf("want a refused try then a resend with the body under the new token: %q", last)
	}
	if code := post(); code != 201 {
		t.Fatalf("new token not kept: %d", code)
	}
	writeToken(t, path, "tok-3")
	want.Store("Bearer tok-3")
	if code := post(); code != 401 {
		t.Fatalf("second forced re-read within the interval: %d", code)
	}
}
