package auth

import (
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
