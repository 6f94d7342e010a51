// Package console is the browser admin console served by the gateway at
// /admin: server-rendered HTML (html/template files embedded in the
// binary) over the same adminapi.Service the admin HTTP API and the CLI
// use, so every rule (validation, audit events, one-time secrets) has one
// code path. It works without JavaScript; one small embedded script adds
// copy-to-clipboard buttons.
//
// Administrators sign in with the admin credential (adminapi.Credential,
// compared in constant time) or, when configured, through an OpenID
// provider (oidc.go) if their sub or verified email is allow-listed. A
// sign-in creates a session with a random id kept in Redis with an
// expiry; the browser holds only the id, in an HttpOnly, SameSite=Strict
// cookie scoped to /admin. Every state-changing form carries the
// session's CSRF token, and cross-site POSTs are refused by their Origin
// and Sec-Fetch-Site headers before that.
package console

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
)

// Prefix is where Mount is meant to be mounted; every link the console
// renders starts with it.
const Prefix = "/admin"

// Options configures a Console.
type Options struct {
	// Service is the one administration code path (required).
	Service *adminapi.Service
	// Credential is the admin credential that signs in.
	Credential adminapi.Credential
	// Audit is the audit trail shown on the audit page (required).
	Audit *audit.Log
	// Redis keeps the sessions, under RedisPrefix (required).
	Redis       redis.UniversalClient
	RedisPrefix string
	// SessionTTL is the lifetime of a session from sign-in (required).
	SessionTTL time.Duration
	// PublicURL, when https, makes the session cookie Secure even when TLS
	// ends at a proxy; its origin is also accepted on POSTs.
	PublicURL string
	// OIDC, when set, adds "Sign in with <issuer host>" (OpenID Connect,
	// authorization code + PKCE) for the administrators it allow-lists.
	OIDC *OIDCOptions
	// Resources, when set, adds the read-only Users and Groups browser
	// of each directory (normally the SCIM layer's scimapi.Handler).
	Resources Resources
	// Upstream lists the directories whose data lives behind the upstream
	// SCIM server (gateway mode); their browser says so.
	Upstream []string
	Log      *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Console serves the admin console.
type Console struct {
	svc      *adminapi.Service
	cred     adminapi.Credential
	events   *audit.Log
	sessions *sessionStore
	pages    map[string]*template.Template
	log      *slog.Logger
	now      func() time.Time
	// secureCookies is set when public_url is https.
	secureCookies bool
	// publicOrigin is public_url's scheme://host, "" when unset.
	publicOrigin string
	// oidc is the OpenID Connect sign-in, nil when not configured.
	oidc *oidcLogin
	// resources reads provisioned data (nil: no browser); upstream lists
	// the directories served upstream.
	resources Resources
	upstream  []string
}

// New checks o and builds a Console.
func New(o Options) (*Console, error) {
	switch {
	case o.Service == nil:
		return nil, errors.New("console: no admin service")
	case o.Audit == nil:
		return nil, errors.New("console: no audit log")
	case o.Redis == nil:
		return nil, errors.New("console: no redis client")
	case o.SessionTTL <= 0:
		return nil, errors.New("console: session TTL must be positive")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	c := &Console{
		svc: o.Service, cred: o.Credential, events: o.Audit, pages: pages, log: o.Log, now: o.Now,
		resources: o.Resources, upstream: o.Upstream,
		sessions: &sessionStore{rdb: o.Redis, prefix: o.RedisPrefix, ttl: o.SessionTTL, now: o.Now, credential: o.Credential.Fingerprint()},
	}
	if o.PublicURL != "" {
		u, err := url.Parse(o.PublicURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("console: public URL %q is not absolute", o.PublicURL)
		}
		c.secureCookies = u.Scheme == "https"
		c.publicOrigin = u.Scheme + "://" + u.Host
	}
	if o.OIDC != nil {
		if c.oidc, err = newOIDCLogin(*o.OIDC, o.Redis, o.RedisPrefix, o.Now); err != nil {
			return nil, err
		}
	}
	// Sessions opened through OIDC live only while OIDC is configured and
	// their administrator is still on the allow-list.
	c.sessions.allow = func(s session) bool {
		if !strings.HasPrefix(s.Via, oidcVia) {
			return true
		}
		return c.oidc != nil && c.oidc.allowed(s.Admin)
	}
	return c, nil
}

// Mount registers the console on g, normally engine.Group(Prefix):
//
//	GET        /                           → /clients (or /login)
//	GET, POST  /login                      sign in with the admin credential
//	GET        /oidc/login, /oidc/callback OpenID Connect sign-in (when configured)
//	POST       /logout
//	GET        /clients                    SCIM clients
//	GET        /clients/new, POST /clients "+ SCIM client"
//	GET, POST  /clients/:id                show; edit name, provider, enabled
//	GET, POST  /clients/:id/delete         confirm; delete
//	GET        /clients/:id/tokens/new, POST /clients/:id/tokens   "+ Token"
//	GET, POST  /clients/:id/tokens/:tokenId/revoke                 confirm; revoke
//	GET, POST  /clients/:id/rotate-secret  confirm; new client secret
//	GET        /directories, POST /directories    directories with counts; "+ Directory"
//	POST       /directories/:id            the edit form: name, max users, rate limit
//	GET, POST  /directories/:id/delete     confirm (with "force"); delete
//	GET, POST  /directories/:id/upstream   the directory's backend: stored, or upstream settings
//	GET        /directories/:id/users, /groups          read-only browser (?q= search, ?start= paging)
//	GET        /directories/:id/users/:rid, /groups/:rid a user (attributes, groups, role); a group (members)
//	GET        /audit                      audit trail with filters
//	GET        /reports/credentials        credential report (.csv: download)
//	GET        /static/*file               CSS and the copy-button script
//
// Every route but /login and /static needs a session; every POST but
// /login needs the session's CSRF token and a same-origin request.
func (c *Console) Mount(g *gin.RouterGroup) {
	g.Use(securityHeaders)
	g.GET("/static/*file", serveStatic)
	g.GET("/login", c.loginForm)
	g.POST("/login", c.sameOrigin, c.login)
	if c.oidc != nil {
		g.GET("/oidc/login", c.oidcStart)
		g.GET("/oidc/callback", c.oidcCallback)
	}

	a := g.Group("", c.requireSession)
	a.GET("", func(ctx *gin.Context) { redirect(ctx, "/clients") })
	a.POST("/logout", c.checkCSRF, c.logout)
	a.GET("/clients", c.listClients)
	a.GET("/clients/new", c.newClientForm)
	a.POST("/clients", c.checkCSRF, c.createClient)
	a.GET("/clients/:id", c.showClient)
	a.POST("/clients/:id", c.checkCSRF, c.updateClient)
	a.GET("/clients/:id/delete", c.confirmDelete)
	a.POST("/clients/:id/delete", c.checkCSRF, c.deleteClient)
	a.GET("/clients/:id/tokens/new", c.newTokenForm)
	a.POST("/clients/:id/tokens", c.checkCSRF, c.createToken)
	a.GET("/clients/:id/tokens/:tokenId/revoke", c.confirmRevoke)
	a.POST("/clients/:id/tokens/:tokenId/revoke", c.checkCSRF, c.revokeToken)
	a.GET("/clients/:id/rotate-secret", c.confirmRotate)
	a.POST("/clients/:id/rotate-secret", c.checkCSRF, c.rotateSecret)
	a.GET("/directories", c.listDirectories)
	a.POST("/directories", c.checkCSRF, c.createDirectory)
	a.POST("/directories/:id", c.checkCSRF, c.updateDirectory)
	a.GET("/directories/:id/delete", c.confirmDeleteDirectory)
	a.POST("/directories/:id/delete", c.checkCSRF, c.deleteDirectory)
	a.GET("/directories/:id/upstream", c.showUpstream)
	a.POST("/directories/:id/upstream", c.checkCSRF, c.updateUpstream)
	a.GET("/directories/:id/users", c.listUsers)
	a.GET("/directories/:id/users/:rid", c.showUser)
	a.GET("/directories/:id/groups", c.listGroups)
	a.GET("/directories/:id/groups/:rid", c.showGroup)
	a.GET("/audit", c.auditPage)
	a.GET("/reports/credentials", c.reportPage)
	a.GET("/reports/credentials.csv", c.reportCSV)
}
