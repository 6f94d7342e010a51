package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"math/big"
	"strings"
	"sync"
)

// StaticTokenPrefix starts every static system token, so secret scanners
// can recognise one.
const StaticTokenPrefix = "opst-"

const (
	base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	secretBytes    = 32
	// secretBodyLen is the base62 length of secretBytes random bytes:
	// ceil(256 / log2(62)).
	secretBodyLen = 43
	checksumLen   = 6 // 62^6 > 2^32
)

// Secret format errors.
var (
	ErrSecretMalformed = errors.New("malformed token")
	ErrSecretChecksum  = errors.New("token checksum mismatch")
)

// NewSecret returns prefix + base62 of 32 bytes from crypto/rand + a
// 6-character base62 CRC32 of that random part (the GitHub token style:
// a scanner can check a candidate offline).
func NewSecret(prefix string) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate token: %w", err)
	}
	body := base62(b, secretBodyLen)
	return prefix + body + checksum(body), nil
}

// SecretHint returns what may be shown of a secret made by NewSecret to
// tell it apart from others: its prefix and last four characters
// ("opst-…wxyz"). The last four are part of the CRC32 checksum, not of the
// random body, so the hint reveals nothing a scanner could not compute
// from the token anyway.
func SecretHint(secret string) string {
	i := strings.Index(secret, "-")
	if i < 0 || len(secret) < i+1+8 {
		return ""
	}
	return secret[:i+1] + "…" + secret[len(secret)-4:]
}

// NewStaticToken returns a fresh opst- token.
func NewStaticToken() (string, error) { return NewSecret(StaticTokenPrefix) }

// CheckSecret verifies the shape and checksum of a secret made by NewSecret
// with prefix, without any I/O.
func CheckSecret(prefix, s string) error {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != secretBodyLen+checksumLen {
		return ErrSecretMalformed
	}
	for i := 0; i < len(rest); i++ {
		if !isBase62(rest[i]) {
			return ErrSecretMalformed
		}
	}
	body, sum := rest[:secretBodyLen], rest[secretBodyLen:]
	want := checksumDigits(body)
	if subtle.ConstantTimeCompare(want[:], []byte(sum)) != 1 {
		return ErrSecretChecksum
	}
	return nil
}

func checksum(body string) string {
	d := checksumDigits(body)
	return string(d[:])
}

// checksumDigits is the base62 CRC32 of body, left-padded with '0' (base62
// of the CRC's bytes, computed without big.Int: every token checks it).
func checksumDigits(body string) [checksumLen]byte {
	var out [checksumLen]byte
	n := crc32IEEE(body)
	for i := checksumLen - 1; i >= 0; i-- {
		out[i] = base62Alphabet[n%62]
		n /= 62
	}
	return out
}

// isBase62 reports whether c is in base62Alphabet (compared by range, not
// searched for: every token checks each of its 49 characters).
func isBase62(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// crc32IEEE is crc32.ChecksumIEEE of s, without converting s to a byte
// slice (an allocation on every authenticated request).
func crc32IEEE(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ crc>>8
	}
	return ^crc
}

// base62 encodes b as a big-endian number, left-padded with '0' to width.
func base62(b []byte, width int) string {
	n := new(big.Int).SetBytes(b)
	out := make([]byte, width)
	base, mod := big.NewInt(62), new(big.Int)
	for i := width - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62Alphabet[mod.Int64()]
	}
	return string(out)
}

// TokenHasher derives the storage key of a token: hex HMAC-SHA256 keyed by
// the pepper, or plain SHA-256 without one. The result is as secret as the
// token's record and is never logged.
type TokenHasher struct {
	pepper []byte
	macs   *sync.Pool // of hash.Hash: keyed HMACs, reset after use
}

// NewTokenHasher returns a hasher keyed by pepper (empty: SHA-256).
func NewTokenHasher(pepper string) TokenHasher {
	key := []byte(pepper)
	return TokenHasher{pepper: key, macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// Hash returns the hex storage key of token.
func (h TokenHasher) Hash(token string) string {
	var buf [hashHexLen]byte
	return string(h.appendHash(buf[:0], token))
}

// hashHexLen is the length of a Hash.
const hashHexLen = 2 * sha256.Size

// appendHash appends Hash(token) to b. Without a pepper it allocates
// nothing for a token of up to 64 bytes (static tokens have 54).
func (h TokenHasher) appendHash(b []byte, token string) []byte {
	if len(h.pepper) == 0 {
		var tb [64]byte
		sum := sha256.Sum256(append(tb[:0], token...))
		return hex.AppendEncode(b, sum[:])
	}
	return hex.AppendEncode(b, h.mac(token))
}

// mac is the HMAC-SHA256 of token keyed by the pepper.
func (h TokenHasher) mac(token string) []byte {
	if h.macs == nil {
		m := hmac.New(sha256.New, h.pepper)
		m.Write([]byte(token))
		return m.Sum(nil)
	}
	m := h.macs.Get().(hash.Hash)
	m.Write([]byte(token))
	sum := m.Sum(nil)
	m.Reset()
	h.macs.Put(m)
	return sum
}
