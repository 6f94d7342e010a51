// Package adminapi administers SCIM clients and their static tokens: a
// small Service holding every rule (validation, name-or-id resolution,
// token issuance), shared by the admin HTTP API, the CLI and, later, the
// browser console, and thin gin handlers over it under /admin/api/v1.
package adminapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"

	"github.com/scimgate/scimgate/sealbox"
	"github.com/scimgate/scimgate/tokenstore"
)

// FieldError is a bad input value; Field is its JSON name (the CLI maps it
// to its flag).
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ErrWrongMethod refuses a static token for a client whose authentication
// method is not static_token.
var ErrWrongMethod = errors.New("client does not use static tokens")

// Service administers clients and tokens over a tokenstore.Store.
type Service struct {
	store  tokenstore.Store
	hasher auth.TokenHasher
	now    func() time.Time
	// events records admin actions (nil: none); see SetAudit.
	events *audit.Log
	log    *slog.Logger

	// secretCost is the bcrypt cost of client secrets (0: default).
	secretCost int

	// dirs manages directories (nil: only the default one; see
	// SetDirectories).
	dirs *directories
	// box seals directories' upstream tokens (nil: stored in plain text).
	box *sealbox.Box
	// offered are the scopes new credentials may get (nil: every known
	// scope); see SetOfferedScopes.
	offered []string
}

// NewService returns a Service; now is the clock (time.Now in production).
func NewService(store tokenstore.Store, hasher auth.TokenHasher, now func() time.Time) *Service {
	return &Service{store: store, hasher: hasher, now: now}
}

// ClientSpec is a client to create.
type ClientSpec struct {
	Name     string `json:"name"`
	Provider string `json:"provider"`
	// Method is an auth.Method; empty means static_token.
	Method string `json:"method"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled"`
	// IdPJWTSpec: the settings of method idp_jwt.
	IdPJWTSpec
	// ClientCredentialsSpec: the settings of method client_credentials.
	ClientCredentialsSpec
	// Directory names the directory the client provisions into (id or
	// name; empty: the default directory). It cannot change later.
	Directory string `json:"directory"`
}

// ClientPatch changes the fields that are set.
type ClientPatch struct {
	Name     *string `json:"name"`
	Provider *string `json:"provider"`
	Enabled  *bool   `json:"enabled"`
	// RateLimit sets the client's own SCIM request rate ("50/s", "600/m",
	// "10000/h"); "" or "default" returns it to the configured default.
	RateLimit *string `json:"rate_limit"`
	// Burst is the burst of the client's own rate (default: the rate).
	Burst *int `json:"burst"`
	// IdPJWTPatch: issuer, subject, audience, jwks_url of an idp_jwt client.
	IdPJWTPatch
	// AllowedScopes replaces the scopes a client_credentials client may
	// request (empty: scim_v2); each must be offered (scopes.offered).
	AllowedScopes *[]string `json:"allowed_scopes"`
}

// TokenSpec is a token to create.
type TokenSpec struct {
	Name string `json:"name"`
	// Scopes default to scim_v2.
	Scopes []string `json:"scopes"`
	// Expires is a validity of Validities (default 1y).
	Expires string `json:"expires"`
	// AllowIPs are CIDRs or single addresses; empty allows any source.
	AllowIPs []string `json:"allow_ips"`
}

// Validities lists the accepted token validities: days (d), calendar
// months (mo) and years (y). The old month forms 1m and 3m are still
// accepted (see DeprecatedValidity).
var Validities = []string{"1d", "7d", "30d", "90d", "1mo", "3mo", "6mo", "1y"}

// deprecatedValidities maps the old spellings, where "m" meant a month
// (but means a minute in every duration setting), to the new ones.
var deprecatedValidities = map[string]string{"1m": "1mo", "3m": "3mo"}

// DeprecatedValidity returns the current spelling of an old validity
// ("1m" → "1mo") and true, or "" and false.
func DeprecatedValidity(v string) (string, bool) {
	n, ok := deprecatedValidities[v]
	return n, ok
}

// ExpiryAfter returns the expiry of a token created at from with validity
// v ("" means 1y). Months and years are calendar months and years.
func ExpiryAfter(from time.Time, v string) (time.Time, error) {
	if n, ok := deprecatedValidities[v]; ok {
		v = n
	}
	switch v {
	case "1d":
		return from.Add(24 * time.Hour), nil
	case "7d":
		return from.Add(7 * 24 * time.Hour), nil
	case "30d":
		return from.Add(30 * 24 * time.Hour), nil
	case "90d":
		return from.Add(90 * 24 * time.Hour), nil
	case "1mo":
		return from.AddDate(0, 1, 0), nil
	case "3mo":
		return from.AddDate(0, 3, 0), nil
	case "6mo":
		return from.AddDate(0, 6, 0), nil
	case "1y", "":
		return from.AddDate(1, 0, 0), nil
	}
	return time.Time{}, fieldErr("expires", "%q is not one of %s", v, strings.Join(Validities, ", "))
}

func validName(field, s string) error {
	if s == "" || len(s) > 64 {
		return fieldErr(field, "must be 1 to 64 characters")
	}
	for i, r := range s {
		ok := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || (i > 0 && strings.ContainsRune("._-", r)))
		if !ok {
			return fieldErr(field, "%q may hold only letters, digits, '.', '_' and '-', starting with a letter or digit", s)
		}
	}
	if _, err := uuid.Parse(s); err == nil {
		return fieldErr(field, "must not look like a client id")
	}
	return nil
}

func validText(field, s string, max int) error {
	if len(s) > max {
		return fieldErr(field, "longer than %d characters", max)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fieldErr(field, "contains control characters")
	}
	return nil
}

// CreateClient validates spec and stores a new client.
func (s *Service) CreateClient(ctx context.Context, spec ClientSpec) (tokenstore.Client, error) {
	if spec.Method == "" {
		spec.Method = string(auth.MethodStaticToken)
	}
	if err := validName("name", spec.Name); err != nil {
		return tokenstore.Client{}, err
	}
	if err := validText("provider", spec.Provider, 200); err != nil {
		return tokenstore.Client{}, err
	}
	if !auth.Method(spec.Method).Valid() {
		return tokenstore.Client{}, fieldErr("method", "%q is not one of static_token, client_credentials, idp_jwt", spec.Method)
	}
	now := s.now().UTC()
	c := tokenstore.Client{
		ID: uuid.NewString(), Name: spec.Name, Provider: spec.Provider, Method: spec.Method,
		Enabled: spec.Enabled == nil || *spec.Enabled, CreatedAt: now, UpdatedAt: now,
	}
	if err := spec.IdPJWTSpec.validate(auth.Method(spec.Method)); err != nil {
		return tokenstore.Client{}, err
	}
	spec.IdPJWTSpec.apply(&c)
	if err := spec.ClientCredentialsSpec.validate(auth.Method(spec.Method)); err != nil {
		return tokenstore.Client{}, err
	}
	spec.ClientCredentialsSpec.apply(&c)
	// The scopes the client gets, the default (scim_v2) included, must be
	// on offer.
	if err := s.checkOffered("scopes", c.AllowedScopes); err != nil {
		return tokenstore.Client{}, err
	}
	dir, err := s.clientDirectory(ctx, spec.Directory)
	if err != nil {
		return tokenstore.Client{}, err
	}
	c.DirectoryID = dir
	if err := s.store.CreateClient(ctx, c); err != nil {
		return tokenstore.Client{}, err
	}
	s.record(ctx, audit.ClientCreated, clientTarget(c), changedFields(tokenstore.Client{}, c))
	return c, nil

}

// Client returns the client named by ref, an id or a name.
func (s *Service) Client(ctx context.Context, ref string) (tokenstore.Client, error) {
	if _, err := uuid.Parse(ref); err == nil {
		return s.store.GetClient(ctx, ref)
	}
	return s.store.GetClientByName(ctx, ref)
}

// ListClients returns every client, ordered by name.
func (s *Service) ListClients(ctx context.Context) ([]tokenstore.Client, error) {
	return s.store.ListClients(ctx)
}

// UpdateClient applies p to the client named by ref. Disabling a client
// stops all its tokens at once (within the cache TTL).
func (s *Service) UpdateClient(ctx context.Context, ref string, p ClientPatch) (tokenstore.Client, error) {
	if p.Name != nil {
		if err := validName("name", *p.Name); err != nil {
			return tokenstore.Client{}, err
		}
	}
	if p.Provider != nil {
		if err := validText("provider", *p.Provider, 200); err != nil {
			return tokenstore.Client{}, err
		}
	}
	if err := p.checkRateLimit(); err != nil {
		return tokenstore.Client{}, err
	}
	c, err := s.Client(ctx, ref)
	if err != nil {
		return tokenstore.Client{}, err
	}
	now := s.now().UTC()
	before := c
	after, err := s.store.UpdateClient(ctx, c.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
		before = c
		if err := p.applyRateLimit(&c); err != nil {
			return c, err
		}
		if err := p.IdPJWTPatch.apply(&c); err != nil {
			return c, err
		}
		if err := s.applyAllowedScopes(p, &c); err != nil {
			return c, err
		}

		if p.Name != nil {
			c.Name = *p.Name
		}
		if p.Provider != nil {
			c.Provider = *p.Provider
		}
		if p.Enabled != nil {
			c.Enabled = *p.Enabled
		}
		c.UpdatedAt = now
		return c, nil
	})
	if err == nil {
		s.record(ctx, audit.ClientUpdated, clientTarget(after), changedFields(before, after))
	}
	return after, err
}

// DeleteClient deletes the client named by ref with all its tokens.
func (s *Service) DeleteClient(ctx context.Context, ref string) (tokenstore.Client, error) {
	c, err := s.Client(ctx, ref)
	if err != nil {
		return tokenstore.Client{}, err
	}
	if err := s.store.DeleteClient(ctx, c.ID); err != nil {
		return c, err
	}
	s.record(ctx, audit.ClientDeleted, clientTarget(c), nil)
	return c, nil
}

// CreateToken issues a static token for the client named by ref. The plain
// token is returned here and never again; only its hash is stored.
func (s *Service) CreateToken(ctx context.Context, ref string, spec TokenSpec) (string, tokenstore.Token, error) {
	if err := validText("name", spec.Name, 100); err != nil {
		return "", tokenstore.Token{}, err
	}
	scopes, err := checkScopes(spec.Scopes)
	if err != nil {
		return "", tokenstore.Token{}, err
	}
	if err := s.checkOffered("scopes", scopes); err != nil {
		return "", tokenstore.Token{}, err
	}
	allow, err := parseAllowList(spec.AllowIPs)
	if err != nil {
		return "", tokenstore.Token{}, err
	}
	now := s.now().UTC()
	exp, err := ExpiryAfter(now, spec.Expires)
	if err != nil {
		return "", tokenstore.Token{}, err
	}
	c, err := s.Client(ctx, ref)
	if err != nil {
		return "", tokenstore.Token{}, err
	}
	if c.Method != string(auth.MethodStaticToken) {
		return "", tokenstore.Token{}, fmt.Errorf("client %s uses %s: %w", c.Name, c.Method, ErrWrongMethod)
	}
	plain, err := auth.NewStaticToken()
	if err != nil {
		return "", tokenstore.Token{}, err
	}
	t := tokenstore.Token{
		ID: uuid.NewString(), ClientID: c.ID, Name: spec.Name, Scopes: scopes, AllowIPs: allow,
		Hint: auth.SecretHint(plain), CreatedAt: now, ExpiresAt: exp,
	}
	if err := s.store.CreateToken(ctx, t, s.hasher.Hash(plain)); err != nil {
		return "", tokenstore.Token{}, err
	}
	s.record(ctx, audit.TokenCreated, tokenTarget(t), tokenFields(t))
	return plain, t, nil

}

func checkScopes(in []string) ([]string, error) {
	if len(in) == 0 {
		return []string{auth.ScopeSCIM}, nil
	}
	var out []string
	for _, sc := range in {
		sc = strings.TrimSpace(sc)
		if !auth.IsKnownScope(sc) {
			return nil, fieldErr("scopes", "%q is not one of %s", sc, strings.Join(auth.KnownScopes, ", "))
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out, nil
}

func parseAllowList(in []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range in {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fieldErr("allow_ips", "%q is not a CIDR or an IP address", s)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() {
			return nil, fieldErr("allow_ips", "%q: write IPv4 networks in dotted form", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// ListTokens lists the tokens of the client named by ref, or all tokens
// when ref is empty.
func (s *Service) ListTokens(ctx context.Context, ref string) ([]tokenstore.Token, error) {
	if ref == "" {
		return s.store.ListTokens(ctx, "")
	}
	c, err := s.Client(ctx, ref)
	if err != nil {
		return nil, err
	}
	return s.store.ListTokens(ctx, c.ID)
}

// Token returns token id; with a client ref, the token must belong to that
// client (ErrNotFound otherwise).
func (s *Service) Token(ctx context.Context, ref, id string) (tokenstore.Token, error) {
	t, err := s.store.GetToken(ctx, id)
	if err != nil {
		return t, err
	}
	if ref != "" {
		c, err := s.Client(ctx, ref)
		if err != nil {
			return tokenstore.Token{}, err
		}
		if c.ID != t.ClientID {
			return tokenstore.Token{}, fmt.Errorf("token %s of client %s: %w", id, c.Name, tokenstore.ErrNotFound)
		}
	}
	return t, nil
}

// RevokeToken revokes token id (of the client named by ref, when not
// empty). Revoking twice keeps the first revocation time.
func (s *Service) RevokeToken(ctx context.Context, ref, id string) (tokenstore.Token, error) {
	was, err := s.Token(ctx, ref, id)
	if err != nil {
		return tokenstore.Token{}, err
	}
	t, err := s.store.RevokeToken(ctx, id, s.now().UTC())
	if err == nil && was.RevokedAt.IsZero() {
		s.record(ctx, audit.TokenRevoked, tokenTarget(t), []string{"revoked_at"})
	}
	return t, err

}

// Bootstrap creates the embedded-mode "default" client (provider
// "embedded", static_token) and returns a new scim_v2 token for it.
func (s *Service) Bootstrap(ctx context.Context) (string, error) {
	c, err := s.CreateClient(ctx, ClientSpec{Name: "default", Provider: "embedded", Method: string(auth.MethodStaticToken)})
	if errors.Is(err, tokenstore.ErrAlreadyExists) {
		c, err = s.Client(ctx, "default")
	}
	if err != nil {
		return "", fmt.Errorf("bootstrap default client: %w", err)
	}
	plain, _, err := s.CreateToken(ctx, c.ID, TokenSpec{Name: "default", Scopes: []string{auth.ScopeSCIM}})
	if err != nil {
		return "", fmt.Errorf("bootstrap default token: %w", err)
	}
	return plain, nil
}
