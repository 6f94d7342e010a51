package adminapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/scimgate/scimgate/auth"
)

// AdminTokenPrefix starts generated admin tokens. It differs from the
// static token prefix, so the SCIM chain never claims an admin token.
const AdminTokenPrefix = "opadm-"

// NewAdminToken returns a fresh admin token (opadm-…).
func NewAdminToken() (string, error) { return auth.NewSecret(AdminTokenPrefix) }

// Credential is the admin API credential from configuration: the SHA-256
// of the admin token. The zero value accepts nothing.
type Credential struct {
	hashes [][]byte
}

// NewCredential builds the credential from admin.token (plain) and
// admin.token_hash (hex SHA-256); either or both may be set. A plain token
// shaped like a static SCIM token is refused, since it would be offered
// to the SCIM chain.
func NewCredential(plain, hexHash string) (Credential, error) {
	var c Credential
	if plain != "" {
		if strings.HasPrefix(plain, auth.StaticTokenPrefix) {
			return Credential{}, fmt.Errorf("admin.token must not start with %q (that is the SCIM token prefix)", auth.StaticTokenPrefix)
		}
		sum := sha256.Sum256([]byte(plain))
		c.hashes = append(c.hashes, sum[:])
	}
	if hexHash != "" {
		b, err := hex.DecodeString(hexHash)
		if err != nil || len(b) != sha256.Size {
			return Credential{}, errors.New("admin.token_hash must be 64 hex digits")
		}
		c.hashes = append(c.hashes, b)
	}
	return c, nil
}

// Configured reports whether any admin credential is set.
func (c Credential) Configured() bool { return len(c.hashes) > 0 }

// Verify compares the SHA-256 of token with every configured hash in
// constant time.
func (c Credential) Verify(token string) bool {
	sum := sha256.Sum256([]byte(token))
	ok := 0
	for _, h := range c.hashes {
		ok |= subtle.ConstantTimeCompare(sum[:], h)
	}
	return ok == 1
}

// Fingerprint identifies the configured credential without revealing it:
// a hash over the token hashes. Sessions opened with one credential can be
// told apart from those opened with the next, so rotating the admin token
// ends every session opened with the old one.
func (c Credential) Fingerprint() string {
	h := sha256.New()
	h.Write([]byte("scimgate-admin-credential"))
	for _, b := range c.hashes {
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}
