package adminapi

import (
	"net/netip"
	"slices"
	"time"

	"github.com/scimgate/scimgate/tokenstore"
)

// ClientJSON is a client as the API and `-o json` show it.
type ClientJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Provider  string    `json:"provider"`
	Method    string    `json:"method"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// idp_jwt settings.
	Issuer   string `json:"issuer,omitempty"`
	Subject  string `json:"subject,omitempty"`
	Audience string `json:"audience,omitempty"`
	JWKSURL  string `json:"jwks_url,omitempty"`
	// RateLimit is the client's own SCIM request rate (absent: the default).
	RateLimit *RateLimitJSON `json:"rate_limit,omitempty"`
	// AllowedScopes are the scopes a client_credentials client may request.
	AllowedScopes []string `json:"allowed_scopes,omitempty"`
	// Directory is the id of the directory the client provisions into.
	Directory string `json:"directory"`
}

// ToClientJSON converts a stored client.
func ToClientJSON(c tokenstore.Client) ClientJSON {
	return ClientJSON{ID: c.ID, Name: c.Name, Provider: c.Provider, Method: c.Method, Enabled: c.Enabled,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience, JWKSURL: c.JWKSURL,
		RateLimit: ToRateLimitJSON(c.RateLimit), AllowedScopes: slices.Clone(c.AllowedScopes), Directory: c.Directory()}

}

// TokenJSON is a token's record as the API and `-o json` show it. Token
// (the plain secret) is set only in the creation response.
type TokenJSON struct {
	ID         string         `json:"id"`
	ClientID   string         `json:"client_id"`
	Name       string         `json:"name"`
	Scopes     []string       `json:"scopes"`
	AllowIPs   []netip.Prefix `json:"allow_ips"`
	Status     string         `json:"status"`
	Hint       string         `json:"hint,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	ExpiresAt  time.Time      `json:"expires_at"`
	RevokedAt  *time.Time     `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time     `json:"last_used_at,omitempty"`
	LastUsedIP string         `json:"last_used_ip,omitempty"`
	Token      string         `json:"token,omitempty"`
}

// ToTokenJSON converts a stored token, with its status at now.
func ToTokenJSON(t tokenstore.Token, now time.Time) TokenJSON {
	allow := t.AllowIPs
	if allow == nil {
		allow = []netip.Prefix{}
	}
	return TokenJSON{
		ID: t.ID, ClientID: t.ClientID, Name: t.Name, Scopes: t.Scopes, AllowIPs: allow,
		Status: string(t.Status(now)), Hint: t.Hint, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
		RevokedAt: optTime(t.RevokedAt), LastUsedAt: optTime(t.LastUsedAt), LastUsedIP: t.LastUsedIP,
	}
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
