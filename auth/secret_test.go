package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"math/big"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestStaticTokenFormat(t *testing.T) {
	a, err := NewStaticToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewStaticToken()
	if a == b || !strings.HasPrefix(a, "opst-") || len(a) != len("opst-")+43+6 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if err := CheckSecret(StaticTokenPrefix, a); err != nil {
		t.Fatalf("fresh token refused: %v", err)
	}
	// Changing any one character of the random part breaks the checksum.
	for i := len("opst-"); i < len(a)-6; i += 7 {
		c := byte('A')
		if a[i] == 'A' {
			c = 'B'
		}
		bad := a[:i] + string(c) + a[i+1:]
		if err := CheckSecret(StaticTokenPrefix, bad); !errors.Is(err, ErrSecretChecksum) {
			t.Fatalf("char %d changed: %v", i, err)
		}
	}
	for _, bad := range []string{"opst-", a[:len(a)-1], a + "0", "opst-" + strings.Repeat("!", 49), "opadm-" + a[5:]} {
		if err := CheckSecret(StaticTokenPrefix, bad); !errors.Is(err, ErrSecretMalformed) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

func TestTokenHasher(t *testing.T) {
	plain, peppered, other := NewTokenHasher(""), NewTokenHasher("pepper"), NewTokenHasher("other")
	const tok = "opst-x"
	if got := plain.Hash(tok); got != "b11e822fc3ffeb16cb1ca4aced63cde1ca79bca73aada42fc5ae4c33abdc2e8f" || got == peppered.Hash(tok) {
		t.Fatalf("plain %s peppered %s", got, peppered.Hash(tok))
	}
	if peppered.Hash(tok) == other.Hash(tok) || peppered.Hash(tok) != NewTokenHasher("pepper").Hash(tok) {
		t.Fatal("HMAC not keyed by the pepper")
	}
}

// TestChecksumMatchesBigIntForm checks the checksum against its definition,
// base62 of the CRC32's big-endian bytes, on many random bodies.
func TestChecksumMatchesBigIntForm(t *testing.T) {
	for i := range 5000 {
		tok, err := NewStaticToken()
		if err != nil {
			t.Fatal(err)
		}
		body := tok[len(StaticTokenPrefix) : len(StaticTokenPrefix)+secretBodyLen]
		if i%2 == 1 {
			body = body[:i%secretBodyLen] // shorter bodies: small CRCs too
		}
		want := base62(big.NewInt(int64(crc32.ChecksumIEEE([]byte(body)))).Bytes(), checksumLen)
		if got := checksum(body); got != want {
			t.Fatalf("checksum(%q) = %s, want %s", body, got, want)
		}
	}
}

// TestPepperedHashIsHMAC checks the pooled HMAC against a fresh one, used
// many times and concurrently.
func TestPepperedHashIsHMAC(t *testing.T) {
	h := NewTokenHasher("pepper-pepper-pepper-pepper-pepper")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				tok := "opst-" + strconv.Itoa(g) + "-" + strconv.Itoa(i)
				m := hmac.New(sha256.New, []byte("pepper-pepper-pepper-pepper-pepper"))
				m.Write([]byte(tok))
				if got, want := h.Hash(tok), hex.EncodeToString(m.Sum(nil)); got != want {
					t.Errorf("Hash(%q) = %s, want %s", tok, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestIsBase62 checks the range test against the alphabet, every byte.
func TestIsBase62(t *testing.T) {
	for c := range 256 {
		if got, want := isBase62(byte(c)), strings.IndexByte(base62Alphabet, byte(c)) >= 0; got != want {
			t.Errorf("isBase62(%q) = %v, want %v", byte(c), got, want)
		}
	}
}
