package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// session is a signed-in administrator. The record is keyed by a hash of
// the session id, so neither the id nor anything that opens the session is
// readable from Redis keys.
type session struct {
	// CSRF is the token every state-changing form of this session carries.
	CSRF string `json:"csrf"`
	// Via names how the administrator signed in: "admin_token", or
	// "oidc:<sub>" through OpenID Connect.
	Via string `json:"via"`
	// Admin is the console.oidc_admins entry an OIDC sign-in matched
	// ("sub:…" or "email:…"); the session ends when it leaves the list.
	Admin string `json:"admin,omitempty"`
	// Credential is the fingerprint of the admin credential the session
	// was opened with; a session of a rotated credential is dead.
	Credential string    `json:"credential"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// sessionStore keeps sessions in Redis with an expiry.
//
//	<prefix>console:session:<hex sha256(id)>   STRING session JSON, PX = TTL
type sessionStore struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	now    func() time.Time
	// credential is the fingerprint of the current admin credential.
	credential string
	// allow, when set, can refuse a stored session (an OIDC administrator
	// no longer on the allow-list, or OIDC since turned off).
	allow func(session) bool
}

func (s *sessionStore) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return s.prefix + "console:session:" + hex.EncodeToString(sum[:])
}

// randomToken returns 32 random bytes, base64url-encoded.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// create stores a new session and returns its id.
func (s *sessionStore) create(ctx context.Context, via string) (string, session, error) {
	return s.createFor(ctx, via, "")
}

// createFor stores a new session of an OIDC administrator who matched
// the allow-list entry admin.
func (s *sessionStore) createFor(ctx context.Context, via, admin string) (string, session, error) {
	id, err := randomToken()
	if err != nil {
		return "", session{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", session{}, err
	}
	now := s.now().UTC()
	sess := session{CSRF: csrf, Via: via, Admin: admin, Credential: s.credential, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
	b, err := json.Marshal(sess)
	if err != nil {
		return "", session{}, fmt.Errorf("encode session: %w", err)
	}
	if err := s.rdb.Set(ctx, s.key(id), b, s.ttl).Err(); err != nil {
		return "", session{}, fmt.Errorf("store session: %w", err)
	}
	return id, sess, nil
}

// get returns the live session with this id; ok is false when there is
// none or it has expired.
func (s *sessionStore) get(ctx context.Context, id string) (sess session, ok bool, err error) {
	if id == "" {
		return session{}, false, nil
	}
	b, err := s.rdb.Get(ctx, s.key(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return session{}, false, nil
	}
	if err != nil {
		return session{}, false, fmt.Errorf("read session: %w", err)
	}
	if err := json.Unmarshal(b, &sess); err != nil {
		return session{}, false, fmt.Errorf("decode session: %w", err)
	}
	// Redis expires the key; the recorded expiry also holds if a key
	// outlived it (a restored snapshot, a clock step).
	if !s.now().Before(sess.ExpiresAt) {
		return session{}, false, nil
	}
	if subtle.ConstantTimeCompare([]byte(sess.Credential), []byte(s.credential)) != 1 {
		return session{}, false, nil // opened with an admin credential since rotated
	}
	if s.allow != nil && !s.allow(sess) {
		return session{}, false, nil
	}
	return sess, true, nil
}

// delete ends the session with this id.
func (s *sessionStore) delete(ctx context.Context, id string) error {
	if err := s.rdb.Del(ctx, s.key(id)).Err(); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
