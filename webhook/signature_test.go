package webhook

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"type":"user.deactivated"}`)
	sig := Sign(secret, now, body)
	ts := strconv.FormatInt(now.Unix(), 10)
	// Fixed vector: printf '%s' '1700000000.{"type":"user.deactivated"}' | openssl dgst -sha256 -hmac s3cret
	if want := "sha256=ad9932179aabb31834e62a00d36d22b93305f8f339cb7493fc3da281c9dca584"; sig != want {
		t.Fatalf("signature %s", sig)
	}
	if err := Verify(secret, sig, ts, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	cases := []struct {
		name    string
		secret  []byte
		sig, ts string
		body    []byte
		now     time.Time
		want    error
	}{
		{"tampered body", secret, sig, ts, []byte(`{"type":"user.reactivated"}`), now, ErrBadSignature},
		{"wrong secret", []byte("other"), sig, ts, body, now, ErrBadSignature},
		{"timestamp changed", secret, sig, strconv.FormatInt(now.Unix()+1, 10), body, now, ErrBadSignature},
		{"no scheme", secret, sig[len("sha256="):], ts, body, now, ErrBadSignature},
		{"not hex", secret, "sha256=zz", ts, body, now, ErrBadSignature},
		{"too old", secret, sig, ts, body, now.Add(6 * time.Minute), ErrStale},
		{"from the future", secret, sig, ts, body, now.Add(-6 * time.Minute), ErrStale},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := Verify(c.secret, c.sig, c.ts, c.body, c.now, 5*time.Minute); !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
	if err := Verify(secret, sig, "soon", body, now, time.Minute); err == nil {
		t.Fatal("non-numeric timestamp accepted")
	}
}
