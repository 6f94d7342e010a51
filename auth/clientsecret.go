package auth

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// ClientSecretPrefix starts every OAuth client secret, so secret scanners
// can recognise one. It differs from StaticTokenPrefix: a client secret is
// never a bearer credential.
const ClientSecretPrefix = "opcs-"

// dummySecretHash is compared against when a client is unknown, disabled or
// has no secret, so such attempts cost as much time as a wrong secret.
// It is computed once, on first use.
var dummySecretHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("opcs-timing-equaliser"), bcrypt.DefaultCost)
	if err != nil {
		panic(fmt.Sprintf("bcrypt: %v", err)) // only on an invalid cost: a programming error
	}
	return h
})

// NewClientSecret returns a fresh client secret: opcs- + 256 random bits in
// base62 + a checksum (54 characters, inside bcrypt's 72-byte limit).
func NewClientSecret() (string, error) { return NewSecret(ClientSecretPrefix) }

// HashClientSecret returns the bcrypt hash of secret at cost (0 means
// bcrypt.DefaultCost). Only this hash is ever stored.
func HashClientSecret(secret string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(secret), cost)
	if err != nil {
		return "", fmt.Errorf("hash client secret: %w", err)
	}
	return string(h), nil
}

// compareHash is bcrypt's comparison; a variable so tests can count calls.
var compareHash = bcrypt.CompareHashAndPassword

// ErrClientSecretMismatch is returned by VerifyClientSecret for a wrong or
// malformed secret.
var ErrClientSecretMismatch = errors.New("client secret mismatch")

// VerifyClientSecret checks secret against a stored bcrypt hash. The
// format and checksum are checked first (no hashing for random strings);
// an empty hash never matches, but still costs one bcrypt comparison.
// BurnClientSecretCheck does exactly the same work for the same secret, so
// the time taken does not tell whether the client exists.
func VerifyClientSecret(hash, secret string) error {
	if err := CheckSecret(ClientSecretPrefix, secret); err != nil {
		return ErrClientSecretMismatch
	}
	if hash == "" {
		_ = compareHash(dummySecretHash(), []byte(secret))
		return ErrClientSecretMismatch
	}
	if err := compareHash([]byte(hash), []byte(secret)); err != nil {
		return ErrClientSecretMismatch
	}
	return nil
}

// BurnClientSecretCheck spends the time VerifyClientSecret would spend on
// secret, without a result, for unknown or disabled clients (no timing
// oracle for client ids): the format check first, then one bcrypt
// comparison only for a well-formed secret, as VerifyClientSecret does.
func BurnClientSecretCheck(secret string) {
	if CheckSecret(ClientSecretPrefix, secret) != nil {
		return
	}
	_ = compareHash(dummySecretHash(), []byte(secret))
}
