package upstream

import (
	"context"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ccToken is the OAuth 2.0 client-credentials token source: the token is
// cached and fetched again shortly before it expires (oauth2's
// ReuseTokenSource); after the upstream refuses it, the cache is dropped,
// at most once per interval, so a token revoked upstream is replaced.
type ccToken struct {
	cfg      clientcredentials.Config
	ctx      context.Context // carries the upstream's HTTP client
	interval time.Duration
	now      func() time.Time

	mu       sync.Mutex
	src      oauth2.TokenSource
	forcedAt time.Time
}

func newCCToken(ctx context.Context, cfg clientcredentials.Config, interval time.Duration, now func() time.Time) *ccToken {
	if interval <= 0 {
		interval = DefaultTokenReload
	}
	return &ccToken{cfg: cfg, ctx: ctx, interval: interval, now: now, src: cfg.TokenSource(ctx)}
}

// Token returns the cached token, or a new one.
func (c *ccToken) Token() (*oauth2.Token, error) {
	c.mu.Lock()
	src := c.src
	c.mu.Unlock()
	return src.Token()
}

func (c *ccToken) reread(used string) (string, bool) {
	c.mu.Lock()
	if now := c.now(); c.forcedAt.IsZero() || now.Sub(c.forcedAt) >= c.interval {
		if cur, err := c.src.Token(); err == nil && cur.AccessToken == used {
			c.forcedAt = now
			c.src = c.cfg.TokenSource(c.ctx) // a fresh cache: the next Token fetches
		}
	}
	src := c.src
	c.mu.Unlock()
	tok, err := src.Token()
	if err != nil {
		return used, false
	}
	return tok.AccessToken, tok.AccessToken != used
}
