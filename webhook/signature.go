package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Request headers of a delivery.
const (
	// HeaderSignature is "sha256=" followed by the hex HMAC-SHA256, keyed
	// with the shared secret, of "<timestamp>.<body>".
	HeaderSignature = "X-Scimgate-Signature"
	// HeaderTimestamp is the signing time in Unix seconds; it is part of
	// the signed material, so a captured request cannot be replayed later
	// than the receiver's tolerance.
	HeaderTimestamp = "X-Scimgate-Timestamp"
	// HeaderDelivery is the stream entry id, unique per event: deduplicate on it.
	HeaderDelivery = "X-Scimgate-Delivery"
	// HeaderEvent is the event type, e.g. "user.deactivated".
	HeaderEvent = "X-Scimgate-Event"
)

// Sign returns the HeaderSignature value for body signed at ts.
func Sign(secret []byte, ts time.Time, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, strconv.FormatInt(ts.Unix(), 10), body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verification errors.
var (
	ErrBadSignature = errors.New("webhook: signature does not match")
	ErrStale        = errors.New("webhook: timestamp outside tolerance")
)

// Verify checks a delivery's HeaderSignature and HeaderTimestamp values
// against body: the signature must match (compared in constant time) and
// the timestamp be within tolerance of now.
func Verify(secret []byte, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook: bad timestamp %q", timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	got, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return ErrBadSignature
	}
	raw, err := hex.DecodeString(got)
	if err != nil || !hmac.Equal(raw, mac(secret, timestamp, body)) {
		return ErrBadSignature
	}
	return nil
}
