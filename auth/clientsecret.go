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

// ErrClientSecretMismatch is returned by VerifyClientSecret for a wrong or
// malformed secret.
var ErrClientSecretMismatch = errors.New("client secret mismatch")

// VerifyClientSecret checks secret against a stored bcrypt hash. The
// format and checksum are checked first (no hashing for random strings);
// an empty hash never matches, but still costs one bcrypt comparison.
func VerifyClientSecret(hash, secret string) error {
	if err := CheckSecret(ClientSecretPrefix, secret); err != nil {
		return ErrClientSecretMismatch
	}
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummySecretHash(), []byte(secret))
		return ErrClientSecretMismatch
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(secret)); err != nil {
		return ErrClientSecretMismatch
	}
	return nil
}

// BurnClientSecretCheck spends the time of one secret comparison without a
// result, for unknown or disabled clients (no timing oracle for client ids).
func BurnClientSecretCheck(secret string) {
	_ = bcrypt.CompareHashAndPassword(dummySecretHash(), []byte(secret))
}
