package upstream

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// fileToken is the bearer token held in a file, re-read at most once per
// interval so that a rotated token is used without a restart. When a
// re-read fails (the file is being replaced, or holds no token) the last
// good token stays in use.
type fileToken struct {
	path     string
	interval time.Duration
	now      func() time.Time

	mu       sync.Mutex
	tok      string
	readAt   time.Time // last read
	forcedAt time.Time // last read forced by a 401
}

func newFileToken(path string, interval time.Duration, now func() time.Time) (*fileToken, error) {
	if interval <= 0 {
		interval = DefaultTokenReload
	}
	f := &fileToken{path: path, interval: interval, now: now}
	tok, err := f.read()
	if err != nil {
		return nil, err
	}
	f.tok, f.readAt = tok, now()
	return f, nil
}

// checkToken trims tok and wants one non-empty line.
func checkToken(tok string) (string, error) {
	tok = strings.TrimSpace(tok)
	if tok == "" || strings.ContainsAny(tok, "\r\n") {
		return "", errors.New("upstream: the token must be one non-empty line")
	}
	return tok, nil
}

func (f *fileToken) read() (string, error) {
	raw, err := os.ReadFile(f.path)
	if err != nil {
		return "", fmt.Errorf("upstream: token_file: %w", err)
	}
	return checkToken(string(raw))
}

// Token returns the token, re-reading the file when the interval has
// passed since the last read.
func (f *fileToken) Token() (*oauth2.Token, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now().Sub(f.readAt) >= f.interval {
		f.refreshLocked()
	}
	return &oauth2.Token{AccessToken: f.tok, TokenType: "Bearer"}, nil
}

// reread is called when the upstream refused used: unless a 401 already
// forced a re-read within the interval (or the token already changed), it
// re-reads the file; it returns the token and whether it differs from
// used.
func (f *fileToken) reread(used string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now := f.now(); f.tok == used && (f.forcedAt.IsZero() || now.Sub(f.forcedAt) >= f.interval) {
		f.forcedAt = now
		f.refreshLocked()
	}
	return f.tok, f.tok != used
}

func (f *fileToken) refreshLocked() {
	f.readAt = f.now()
	if tok, err := f.read(); err == nil {
		f.tok = tok
	}
}
