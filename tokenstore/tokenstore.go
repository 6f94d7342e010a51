// Package tokenstore keeps SCIM clients and their static system tokens.
//
// Store is the one persistence interface; its doc comments are the contract
// every backend meets, and storetest.Run checks it. Redis is the backend
// (single server, Sentinel, Cluster or the embedded miniredis).
//
// Only a hash of each token is ever stored (see auth.TokenHasher); the
// plain token exists once, in the creation response.
//
// # Redis key layout
//
// Every key starts with the configured prefix followed by the hash tag
// {auth}, so all keys of this package live in one Cluster slot and the
// multi-key Lua scripts below are valid on Redis Cluster:
//
//	<prefix>{auth}:client-names              HASH  lower-cased client name -> client id
//	<prefix>{auth}:client-order              ZSET  lower-cased client names, score 0 (name order
//	                                               for paging; rebuilt from client-names when
//	                                               their sizes differ, see ListClientsPage)
//	<prefix>{auth}:client:<id>               HASH  data (client JSON), enabled ("1"/"0"),
//	                                               lname (lower-cased name)
//	<prefix>{auth}:client:<id>:tokens        SET   ids of the client's tokens
//	<prefix>{auth}:token:<hash>              HASH  data (token JSON), client, exp (unix ms),
//	                                               allow (packed CIDRs), revoked (unix ms),
//	                                               used_at (unix ms), used_ip
//	<prefix>{auth}:token-id:<id>             STRING hash of the token with that id
//	<prefix>{auth}:idp-subjects              HASH  issuer "\n" subject -> id of the idp_jwt client
//	<prefix>{auth}:idp-issuers               HASH  issuer -> number of idp_jwt clients trusting it
//	<prefix>{auth}:dir:<id>                  HASH  a directory's record (package directory);
//	                                               CreateClient checks it atomically
//	<prefix>{auth}:dir-names                 HASH  lower-cased directory name -> id
//
// An idp_jwt client's hash also holds idp (its idp-subjects field) and iss,
// so deleting or updating the client finds its index entries.
//
// The scripts derive the client and token-id keys from the records they
// read; because those keys carry the same hash tag they are always local to
// the node running the script.
package tokenstore

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Shared errors. Backends return these (possibly wrapped) so callers can
// use errors.Is.
var (
	ErrNotFound      = errors.New("tokenstore: not found")
	ErrAlreadyExists = errors.New("tokenstore: already exists")
)

// Refusals returned by LookupToken for a token that exists but may not be used.
var (
	ErrTokenRevoked       = errors.New("tokenstore: token revoked")
	ErrTokenExpired       = errors.New("tokenstore: token expired")
	ErrClientDisabled     = errors.New("tokenstore: client disabled")
	ErrAddressNotAllowed  = errors.New("tokenstore: source address not in the token's allow-list")
	errConcurrentModified = errors.New("tokenstore: concurrent modification")
)

// Errors of the IdP JWT index. Each wraps the shared error it refines, so
// errors.Is(err, ErrNotFound) and errors.Is(err, ErrAlreadyExists) hold.
var (
	// ErrUnknownIssuer: no idp_jwt client trusts the issuer.
	ErrUnknownIssuer = fmt.Errorf("tokenstore: no client trusts this issuer: %w", ErrNotFound)
	// ErrUnknownSubject: the issuer is trusted, but not for this subject.
	ErrUnknownSubject = fmt.Errorf("tokenstore: no client for this subject of the issuer: %w", ErrNotFound)
	// ErrSubjectTaken: another client already has this (issuer, subject).
	ErrSubjectTaken = fmt.Errorf("tokenstore: issuer and subject already belong to another client: %w", ErrAlreadyExists)
)

// ErrNoDirectory refuses a client whose directory does not exist or is
// being deleted.
var ErrNoDirectory = fmt.Errorf("tokenstore: directory does not exist: %w", ErrNotFound)

// DefaultDirectory is the id (and name) of the built-in directory, the one
// of every client created before directories existed.
const DefaultDirectory = "default"

// DirectoryKey returns the key of directory id's record under prefix. It is
// in the {auth} slot, so CreateClient checks the directory atomically.
func DirectoryKey(prefix, id string) string { return prefix + "{auth}:dir:" + id }

// Client is a SCIM client: one identity provider that provisions into us.
//
// The record is stored as JSON, so the per-client settings later issues add
// (client-credentials secret hashes; IdP JWT issuer, subject, audience and
// JWKS URL; rate-limit override; role mapping) are new fields here with
// `omitempty`: older records decode with zero values and need no migration.
type Client struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Provider is the login provider the provisioned users will use (free text).
	Provider string `json:"provider,omitempty"`
	// Method is the authentication method (an auth.Method value).
	Method    string    `json:"method"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// RateLimit overrides the configured SCIM request rate of this client;
	// nil means the default (ratelimit.rate / ratelimit.burst).
	RateLimit *RateLimit `json:"rate_limit,omitempty"`

	// IdP JWT settings (method idp_jwt): tokens issued by Issuer (exact
	// iss) for Subject (sub) with Audience among their aud, signed by a key
	// of JWKSURL, or of the issuer's discovery document when empty. A
	// client is found by (Issuer, Subject), which is unique.
	Issuer   string `json:"issuer,omitempty"`
	Subject  string `json:"subject,omitempty"`
	Audience string `json:"audience,omitempty"`
	JWKSURL  string `json:"jwks_url,omitempty"`

	// OAuth client credentials (method client_credentials).
	// SecretHash is the bcrypt hash of the client secret; the secret itself
	// is never stored.
	SecretHash string `json:"secret_hash,omitempty"`
	// SecretRotatedAt is when the current secret was issued.
	SecretRotatedAt time.Time `json:"secret_rotated_at,omitzero"`
	// AllowedScopes are the scopes the client may request at the token
	// endpoint (scim_v2 when empty).
	AllowedScopes []string `json:"allowed_scopes,omitempty"`

	// DirectoryID is the directory the client provisions into, fixed at
	// creation; "" (records written before directories) means the default
	// directory. Read it with Directory.
	DirectoryID string `json:"directory_id,omitempty"`
}

// Directory returns the id of the client's directory (DefaultDirectory
// for a record without one).
func (c Client) Directory() string {
	if c.DirectoryID == "" {
		return DefaultDirectory
	}
	return c.DirectoryID
}

// Token is a static system token's record. It never holds the token or
// its hash.
type Token struct {
	ID       string         `json:"id"`
	ClientID string         `json:"client_id"`
	Name     string         `json:"name,omitempty"`
	Scopes   []string       `json:"scopes"`
	AllowIPs []netip.Prefix `json:"allow_ips,omitempty"`

	// Hint is the token's prefix and last four characters ("opst-…wxyz",
	// see auth.SecretHint), stored at creation so listings can tell tokens
	// apart; empty for tokens created before hints were kept.
	Hint string `json:"hint,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// The fields below are kept outside the JSON record and change over time.
	RevokedAt  time.Time `json:"-"`
	LastUsedAt time.Time `json:"-"`
	LastUsedIP string    `json:"-"`
}

// Status is a token's state as shown in listings.
type Status string

// Token states.
const (
	StatusActive  Status = "active"
	StatusExpired Status = "expired"
	StatusRevoked Status = "revoked"
)

// Status reports the token's state at now. Revocation wins over expiry.
func (t Token) Status(now time.Time) Status {
	switch {
	case !t.RevokedAt.IsZero():
		return StatusRevoked
	case !now.Before(t.ExpiresAt):
		return StatusExpired
	}
	return StatusActive
}

// Store persists SCIM clients and static tokens.
//
// Every method that changes more than one key MUST do so atomically: no
// reader, on any replica, may observe a half-applied change.
type Store interface {
	// CreateClient stores c, whose ID and Name must be set. It returns
	// ErrAlreadyExists when the id or the name (compared case-insensitively)
	// is taken; of concurrent creations with one name exactly one succeeds.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns the client with id, or ErrNotFound.
	GetClient(ctx context.Context, id string) (Client, error)
	// GetClientByName returns the client named name (case-insensitively),
	// or ErrNotFound.
	GetClientByName(ctx context.Context, name string) (Client, error)
	// ListClients returns every client, ordered by name.
	ListClients(ctx context.Context) ([]Client, error)
	// ListClientsPage returns up to q.Limit clients whose lower-cased name
	// starts with the lower-cased q.Prefix, ordered by name, after
	// q.Cursor (a ClientPage.Next), reading only the clients it returns.
	// A malformed cursor gives ErrBadCursor.
	ListClientsPage(ctx context.Context, q ClientQuery) (ClientPage, error)
	// UpdateClient applies update to the current record of client id and
	// stores the result atomically (compare-and-swap, retried on conflict,
	// so update may run more than once and must not have side effects). The
	// id cannot change; a new name must be free (ErrAlreadyExists). It
	// returns ErrNotFound for an unknown id, or update's own error.
	UpdateClient(ctx context.Context, id string, update func(Client) (Client, error)) (Client, error)
	// DeleteClient removes the client, its name, and all its tokens with
	// their indexes in one atomic step, so none of its tokens works after
	// it returns. It returns ErrNotFound for an unknown id.
	DeleteClient(ctx context.Context, id string) error

	// CreateToken stores t under hash (the token's keyed hash, never the
	// token). The client t.ClientID must exist (ErrNotFound otherwise,
	// checked atomically with the write); a taken id or hash gives
	// ErrAlreadyExists.
	CreateToken(ctx context.Context, t Token, hash string) error
	// GetToken returns the token with id, or ErrNotFound.
	GetToken(ctx context.Context, id string) (Token, error)
	// ListTokens returns the tokens of client clientID, or of every client
	// when clientID is empty, oldest first. An unknown client gives
	// ErrNotFound.
	ListTokens(ctx context.Context, clientID string) ([]Token, error)
	// RevokeToken marks token id revoked at at and returns it. Revoking a
	// revoked token keeps the first revocation time. Unknown id: ErrNotFound.
	RevokeToken(ctx context.Context, id string, at time.Time) (Token, error)

	// LookupToken is the request path: in ONE round trip it finds the token
	// stored under hash, checks it and its client at now for a request from
	// ip, and on success records now and ip as last use (at most once per
	// touch interval, so a busy token does not write on every request). It
	// returns the token and its client, or ErrNotFound, ErrTokenRevoked,
	// ErrTokenExpired, ErrClientDisabled or ErrAddressNotAllowed. With a
	// refusal other than ErrNotFound the returned Token is filled in, so the
	// caller can name the client in its logs. Other errors mean the store is
	// unavailable.
	LookupToken(ctx context.Context, hash string, ip netip.Addr, now time.Time) (Token, Client, error)

	// LookupIdPClient is the request path of IdP JWTs: in ONE round trip it
	// returns the idp_jwt client whose (Issuer, Subject) is (issuer,
	// subject), enabled or not. It returns ErrUnknownIssuer when no client
	// trusts issuer, ErrUnknownSubject when some do but none for subject.
	// The (issuer, subject) index is maintained atomically by CreateClient,
	// UpdateClient and DeleteClient, which refuse a pair already taken with
	// ErrSubjectTaken.
	LookupIdPClient(ctx context.Context, issuer, subject string) (Client, error)
}
