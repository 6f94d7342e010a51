package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxLoggedValue bounds one unverified value (sub, aud, kid, iss, alg…)
// quoted in a rejection reason, which goes to the logs and the audit trail.
const maxLoggedValue = 64

// maxReason bounds a whole rejection reason.
const maxReason = 512

// clip makes an unverified, attacker-chosen value safe to log: control and
// format characters (newlines, escapes, bidi overrides) are dropped, invalid
// UTF-8 is replaced, and the result is cut to maxLoggedValue runes with a
// trailing "…".
func clip(s string) string { return sanitize(s, maxLoggedValue) }

// clipAll clips each value of vs, and keeps at most 5 of them.
func clipAll(vs []string) []string {
	out := make([]string, 0, min(len(vs), 5))
	for i, v := range vs {
		if i == 5 {
			out = append(out, "…")
			break
		}
		out = append(out, clip(v))
	}
	return out
}

func sanitize(s string, limit int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, string(utf8.RuneError)) {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if n == limit {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// LogSafe makes an unverified, caller-chosen value (a presented client id,
// say) safe for a log line or an audit reason, like the values quoted in
// rejection reasons: control and format characters dropped, invalid UTF-8
// replaced, cut to 64 runes with a trailing "…".
func LogSafe(s string) string { return clip(s) }

// secretPrefixes start scimgate's client secrets (opcs-) and SCIM tokens
// (opst-): a value with one of them in the client_id slot is a secret
// pasted in the wrong field.
var secretPrefixes = []string{"opcs-", "opst-"}

// LogSafeClientID is LogSafe for a presented, unverified client id that
// may be a secret sent in the wrong slot: a value with a secret prefix, or
// longer than 40 characters and random-looking (base64/hex of high
// entropy), is replaced by a fingerprint "sha256:" + 12 hex digits of its
// hash, which identifies repeats without revealing it.
func LogSafeClientID(s string) string {
	if s == "" {
		return ""
	}
	if looksSecret(s) {
		sum := sha256.Sum256([]byte(s))
		return "sha256:" + hex.EncodeToString(sum[:6])
	}
	return LogSafe(s)
}

// looksSecret reports whether s has a secret prefix or is a long run of
// token characters with high Shannon entropy (random base64 or hex; UUIDs
// and readable names fall under the thresholds).
func looksSecret(s string) bool {
	for _, p := range secretPrefixes {
		if strings.HasPrefix(strings.ToLower(s), p) {
			return true
		}
	}
	if len(s) <= 40 {
		return false
	}
	counts := map[rune]int{}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.~+/=", r)) {
			return false
		}
		counts[r]++
	}
	var bits float64
	for _, n := range counts {
		p := float64(n) / float64(len(s))
		bits -= p * math.Log2(p)
	}
	return bits >= 3.5
}
