package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/idpkeys"
)

// OIDCOptions turns on OpenID Connect sign-in for administrators
// (authorization code flow with PKCE S256, a nonce and a one-time state).
type OIDCOptions struct {
	// Issuer is the OpenID provider's issuer URL (discovery is fetched
	// from it on the first sign-in, not at start).
	Issuer       string
	ClientID     string
	ClientSecret string // empty for a public client (PKCE only)
	// Admins is the allow-list: `sub` values, or email addresses that
	// match only when the provider says email_verified is true. Required:
	// without it anyone with an account at the provider would be admin.
	Admins []string
	// RedirectURL is where the provider sends the browser back:
	// public_url + /admin/oidc/callback.
	RedirectURL string
	// HTTPTimeout bounds each request to the provider (10s when zero).
	HTTPTimeout time.Duration
	// RetryAfter is the least time between two discovery attempts after a
	// failed one (10s when zero).
	RetryAfter time.Duration
}

const (
	// oidcCookie holds the id of a sign-in in progress.
	oidcCookie = "scimgate_console_oidc"
	// oidcCookiePath scopes it to the two OIDC routes.
	oidcCookiePath = Prefix + "/oidc"
	// oidcFlowTTL is how long a started sign-in may take at the provider.
	oidcFlowTTL = 10 * time.Minute
	// oidcVia prefixes the Via of sessions opened through OIDC, so their
	// audit events name the administrator: console_oidc:<sub>.
	oidcVia = "oidc:"
)

// oidcLogin is the OIDC sign-in of a Console.
type oidcLogin struct {
	opts   OIDCOptions
	label  string // the issuer's host, for the button
	hc     *http.Client
	admins map[string]bool // sub values as given, emails lower-cased
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time

	mu       sync.Mutex
	provider *oidc.Provider
	failedAt time.Time // last failed discovery
}

func newOIDCLogin(o OIDCOptions, rdb redis.UniversalClient, prefix string, now func() time.Time) (*oidcLogin, error) {
	iu, err := url.Parse(o.Issuer)
	if err != nil || iu.Host == "" || (iu.Scheme != "https" && iu.Scheme != "http") {
		return nil, fmt.Errorf("console: OIDC issuer %q is not an absolute http(s) URL", o.Issuer)
	}
	ru, err := url.Parse(o.RedirectURL)
	if err != nil || ru.Host == "" {
		return nil, fmt.Errorf("console: OIDC redirect URL %q is not absolute", o.RedirectURL)
	}
	if o.ClientID == "" {
		return nil, errors.New("console: OIDC needs a client id")
	}
	l := &oidcLogin{opts: o, label: iu.Host, admins: map[string]bool{}, rdb: rdb, prefix: prefix, now: now}
	for _, a := range o.Admins {
		if a = strings.TrimSpace(a); a != "" {
			l.admins[adminKey(a)] = true
		}
	}
	if len(l.admins) == 0 {
		return nil, errors.New("console: OIDC needs an allow-list of administrators (sub or email)")
	}
	if l.opts.HTTPTimeout <= 0 {
		l.opts.HTTPTimeout = 10 * time.Second
	}
	if l.opts.RetryAfter <= 0 {
		l.opts.RetryAfter = 10 * time.Second
	}
	// Discovery, JWKS and token requests follow redirects only on the
	// provider's own scheme and host.
	l.hc = &http.Client{Timeout: l.opts.HTTPTimeout, CheckRedirect: idpkeys.SameOriginRedirects}
	return l, nil
}

// adminKey normalises an allow-list entry: emails compare case-insensitively.
func adminKey(s string) string {
	if strings.Contains(s, "@") {
		return "email:" + strings.ToLower(s)
	}
	return "sub:" + s
}

// allowed reports whether a session's matched allow-list entry is still
// on the list, so removing an administrator ends their sessions.
func (l *oidcLogin) allowed(entry string) bool { return entry != "" && l.admins[entry] }

// ctx carries the provider HTTP client (with its timeout) for go-oidc and
// golang.org/x/oauth2.
func (l *oidcLogin) ctx(ctx context.Context) context.Context { return oidc.ClientContext(ctx, l.hc) }

// getProvider fetches discovery on first use and keeps the result. A
// provider that is down when the gateway starts does not stop the gateway;
// a failed attempt is retried on a later sign-in, at most every RetryAfter.
// The provider's key set (go-oidc RemoteKeySet) refetches the JWKS on an
// unknown kid; ID tokens reach us only from the provider's token endpoint
// over our own back channel, so a stranger cannot drive those fetches.
func (l *oidcLogin) getProvider(ctx context.Context) (*oidc.Provider, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.provider != nil {
		return l.provider, nil
	}
	if !l.failedAt.IsZero() && l.now().Sub(l.failedAt) < l.opts.RetryAfter {
		return nil, errors.New("OIDC discovery failed recently; retrying later")
	}
	// Not the request's context: the provider keeps only the HTTP client,
	// but discovery should not be cut short by a browser going away.
	dctx, cancel := context.WithTimeout(l.ctx(context.WithoutCancel(ctx)), l.opts.HTTPTimeout)
	defer cancel()
	p, err := oidc.NewProvider(dctx, l.opts.Issuer)
	if err == nil {
		var doc struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err = p.Claims(&doc); err == nil {
			err = idpkeys.CheckURL(doc.JWKSURI)
		}
	}
	if err != nil {
		l.failedAt = l.now()
		return nil, fmt.Errorf("OIDC discovery: %w", err)
	}
	l.provider = p
	return p, nil
}

func (l *oidcLogin) oauth2Config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: l.opts.ClientID, ClientSecret: l.opts.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: l.opts.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
}

// oidcFlow is a sign-in in progress, kept server-side in Redis:
//
//	<prefix>console:oidc:<hex sha256(id)>   STRING flow JSON, PX = 10m
//
// where id is the random value in the browser's oidcCookie.
type oidcFlow struct {
	State    string `json:"state"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

func (l *oidcLogin) flowKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return l.prefix + "console:oidc:" + hex.EncodeToString(sum[:])
}

// oidcStart begins a sign-in: a fresh state, nonce and PKCE verifier are
// stored in Redis and the browser goes to the provider.
func (c *Console) oidcStart(ctx *gin.Context) {
	l := c.oidc
	rctx := ctx.Request.Context()
	p, err := l.getProvider(rctx)
	if err != nil {
		c.oidcFailed(ctx, http.StatusBadGateway, "the identity provider could not be reached", err)
		return
	}
	var f oidcFlow
	var id string
	for _, dst := range []*string{&id, &f.State, &f.Nonce} {
		if *dst, err = randomToken(); err != nil {
			c.fail(ctx, err)
			return
		}
	}
	f.Verifier = oauth2.GenerateVerifier()
	b, err := json.Marshal(f)
	if err != nil {
		c.fail(ctx, err)
		return
	}
	if err := l.rdb.Set(rctx, l.flowKey(id), b, oidcFlowTTL).Err(); err != nil {
		c.fail(ctx, fmt.Errorf("store OIDC sign-in: %w", err))
		return
	}
	// SameSite=Lax, unlike the session cookie: the provider sends the
	// browser back with a cross-site top-level GET, on which browsers send
	// Lax cookies but not Strict ones, so a Strict cookie would be missing
	// at the callback. Lax still keeps it off cross-site subrequests and
	// POSTs, it is HttpOnly, scoped to /admin/oidc, lives 10 minutes, and
	// only names a one-time record; it opens nothing by itself.
	http.SetCookie(ctx.Writer, &http.Cookie{
		Name: oidcCookie, Value: id, Path: oidcCookiePath, MaxAge: int(oidcFlowTTL.Seconds()),
		HttpOnly: true, Secure: c.secure(ctx.Request), SameSite: http.SameSiteLaxMode,
	})
	to := l.oauth2Config(p).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	ctx.Redirect(http.StatusSeeOther, to)
}

// errOIDC is a refused sign-in: status for the page, reason for the log.
type errOIDC struct {
	status int
	reason string
}

func (e *errOIDC) Error() string { return e.reason }

func refuse(status int, format string, a ...any) error {
	return &errOIDC{status: status, reason: fmt.Sprintf(format, a...)}
}

// oidcCallback finishes a sign-in: one-time state, code exchange with the
// PKCE verifier, ID token verification (issuer, audience, expiry,
// signature, nonce), the allow-list, then a session like the credential
// sign-in's.
func (c *Console) oidcCallback(ctx *gin.Context) {
	sub, entry, err := c.oidcVerify(ctx)
	if err != nil {
		var e *errOIDC
		status := http.StatusBadGateway
		if errors.As(err, &e) {
			status = e.status
			if status == http.StatusForbidden || status == http.StatusUnauthorized {
				ctx.Set(adminapi.AuthFailedKey, true)
			}
		}
		c.oidcFailed(ctx, status, "", err)
		return
	}
	id, sess, err := c.sessions.createFor(ctx.Request.Context(), oidcVia+sub, entry)
	if err != nil {
		c.fail(ctx, err)
		return
	}
	c.log.InfoContext(ctx.Request.Context(), "console sign-in", "via", "oidc", "sub", sub, "ip", ctx.ClientIP(), "expires_at", sess.ExpiresAt)
	c.setCookie(ctx, sessionCookie, id, int(sess.ExpiresAt.Sub(sess.CreatedAt).Seconds()))
	redirect(ctx, "/clients")
}

// oidcVerify does the checks of oidcCallback and returns the subject and
// the allow-list entry it matched.
func (c *Console) oidcVerify(ctx *gin.Context) (sub, entry string, err error) {
	l := c.oidc
	rctx := ctx.Request.Context()
	// The flow is used once, whatever happens next.
	http.SetCookie(ctx.Writer, &http.Cookie{Name: oidcCookie, Value: "", Path: oidcCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: c.secure(ctx.Request), SameSite: http.SameSiteLaxMode})
	fid, _ := ctx.Cookie(oidcCookie)
	if fid == "" {
		return "", "", refuse(http.StatusBadRequest, "no sign-in in progress in this browser (flow cookie missing)")
	}
	raw, err := l.rdb.GetDel(rctx, l.flowKey(fid)).Bytes()
	if errors.Is(err, redis.Nil) {
		return "", "", refuse(http.StatusBadRequest, "unknown, expired or already used sign-in")
	}
	if err != nil {
		return "", "", fmt.Errorf("read OIDC sign-in: %w", err)
	}
	var f oidcFlow
	if err := json.Unmarshal(raw, &f); err != nil {
		return "", "", fmt.Errorf("decode OIDC sign-in: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(ctx.Query("state")), []byte(f.State)) != 1 {
		return "", "", refuse(http.StatusBadRequest, "state does not match the sign-in started in this browser")
	}
	if e := ctx.Query("error"); e != "" {
		return "", "", refuse(http.StatusUnauthorized, "the identity provider answered error %q", clip(e))
	}
	code := ctx.Query("code")
	if code == "" {
		return "", "", refuse(http.StatusBadRequest, "no authorization code in the callback")
	}
	p, err := l.getProvider(rctx)
	if err != nil {
		return "", "", err
	}
	pctx := l.ctx(rctx)
	tok, err := l.oauth2Config(p).Exchange(pctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			st := 0
			if re.Response != nil {
				st = re.Response.StatusCode
			}
			return "", "", refuse(http.StatusUnauthorized, "code exchange refused by the identity provider: HTTP %d %s", st, clip(re.ErrorCode))
		}
		return "", "", fmt.Errorf("code exchange failed: %s", clip(err.Error()))
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return "", "", refuse(http.StatusUnauthorized, "the token response has no id_token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: l.opts.ClientID, Now: l.now}).Verify(pctx, rawID)
	if err != nil {
		return "", "", refuse(http.StatusUnauthorized, "ID token refused: %s", clip(err.Error()))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return "", "", refuse(http.StatusUnauthorized, "ID token nonce does not match")
	}
	if idt.Subject == "" {
		return "", "", refuse(http.StatusUnauthorized, "ID token has no sub")
	}
	if k := adminKey(idt.Subject); !strings.Contains(idt.Subject, "@") && l.admins[k] {
		return idt.Subject, k, nil
	}
	email, verified, err := l.email(pctx, p, idt, tok)
	if err != nil {
		return "", "", err
	}
	if email != "" && verified {
		if k := adminKey(email); strings.Contains(email, "@") && l.admins[k] {
			return idt.Subject, k, nil
		}
	}
	detail := ""
	if email != "" && !verified {
		detail = " (its email is not verified)"
	}
	return "", "", refuse(http.StatusForbidden, "sub %q is not on console.oidc_admins%s", clip(idt.Subject), detail)
}

// email returns the email claim and email_verified, from the ID token or,
// when it carries no email (providers that keep profile claims out of ID
// tokens), from the userinfo endpoint, whose sub must be the token's.
func (l *oidcLogin) email(ctx context.Context, p *oidc.Provider, idt *oidc.IDToken, tok *oauth2.Token) (string, bool, error) {
	var cl struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
	}
	if err := idt.Claims(&cl); err != nil {
		return "", false, refuse(http.StatusUnauthorized, "ID token claims: %s", clip(err.Error()))
	}
	if cl.Email != "" {
		return cl.Email, isTrue(cl.EmailVerified), nil
	}
	if p.UserInfoEndpoint() == "" {
		return "", false, nil
	}
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return "", false, fmt.Errorf("userinfo request failed: %s", clip(err.Error()))
	}
	if ui.Subject != idt.Subject {
		return "", false, refuse(http.StatusUnauthorized, "userinfo sub differs from the ID token's")
	}
	return ui.Email, ui.EmailVerified, nil
}

// isTrue accepts email_verified as a JSON boolean or, as some providers
// send it, the string "true".
func isTrue(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

// clip bounds provider-supplied text in log lines and strips control
// characters.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// oidcFailed logs why a sign-in failed and shows a page that says only
// that it failed. Reasons never contain tokens, codes, state or verifier.
func (c *Console) oidcFailed(ctx *gin.Context, status int, what string, err error) {
	c.log.WarnContext(ctx.Request.Context(), "console OIDC sign-in failed", "reason", err.Error(), "ip", ctx.ClientIP())
	msg := "Sign-in with " + c.oidc.label + " failed"
	if what != "" {
		msg += ": " + what
	}
	c.render(ctx, status, "error", "Sign-in failed", errorPage{
		Message: msg + ". Try again, or ask an administrator to check the gateway log.",
		Back:    Prefix + "/login",
	})
}
