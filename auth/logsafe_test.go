package auth_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/lestrrat-go/jwx/v2/jwa"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/redistest"
)

// TestRejectionReasonsBoundUnverifiedContent (L7): attacker-chosen sub,
// aud and kid reach the rejection reason (logs, audit trail) cut to 64
// characters and without control characters.
func TestRejectionReasonsBoundUnverifiedContent(t *testing.T) {
	f := newFixture(t, redistest.Mini(t))
	d := newTestIdP(t)
	idpClient(t, f.store, d, "kc", "sa-1")
	_, a := idpGateway(t, f, newKeys(time.Hour), slog.New(slog.DiscardHandler), auth.IdPJWTOptions{ClientCacheTTL: time.Second})
	evil := "x\nlevel=ERROR msg=\"forged\"\x1b[31m\u202e" + strings.Repeat("A", 500)
	forger := newKey(t, "rsa")

	sub := d.claims("sa-1")
	sub["sub"] = evil
	aud := d.claims("sa-1")
	aud["aud"] = []string{evil, evil}
	cases := map[string]string{
		"sub": signWith(t, jwa.RS256, forger, "rsa1", sub),
		"kid": signWith(t, jwa.RS256, forger, evil, d.claims("sa-1")),
		"aud": d.sign(jwa.RS256, "rsa1", aud),
	}
	for name, tok := range cases {
		_, err := a.Authenticate(context.Background(), auth.Request{Token: tok, Now: time.Now()})
		rej, ok := err.(*auth.Rejection)
		if !ok {
			t.Fatalf("%s: %v, want a rejection", name, err)
		}
		if strings.Contains(rej.Reason, strings.Repeat("A", 65)) {
			t.Errorf("%s: reason carries more than 64 characters of the value: %d bytes", name, len(rej.Reason))
		}
		if strings.ContainsFunc(rej.Reason, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
			t.Errorf("%s: reason carries control characters: %q", name, rej.Reason)
		}
		if !strings.Contains(rej.Reason, "level=ERROR") {
			t.Errorf("%s: reason lost the (clipped) value: %q", name, rej.Reason)
		}
	}
}

func TestLogSafeClientID(t *testing.T) {
	for _, s := range []string{
		"opcs-" + strings.Repeat("A", 43),
		"OPST-short",
		"Zk9rQ3VlVzJmN0xxOHh0M1Bmb2d4YVRqN2hVbnNhYWJjZGVmZ2hp",
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	} {
		got := auth.LogSafeClientID(s)
		if !strings.HasPrefix(got, "sha256:") || len(got) != len("sha256:")+12 || got != auth.LogSafeClientID(s) {
			t.Errorf("%.12s…: %q, want a stable fingerprint", s, got)
		}
	}
	for _, s := range []string{"", "8c1f0c7e-3a44-4f7e-9d0e-2b1b7d1f9a10", "okta-prod", strings.Repeat("a", 60)} {
		if got := auth.LogSafeClientID(s); got != auth.LogSafe(s) {
			t.Errorf("%q: %q, want it as LogSafe gives it", s, got)
		}
	}
}
