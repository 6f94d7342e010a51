package webhook_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/scimgate/scimgate/webhook"
)

// verify is the receiver-side check of docs/events.md, verbatim (standard
// library only), tested against Sign so the documented code cannot rot.
func verify(secret []byte, r *http.Request, body []byte) error {
	ts := r.Header.Get("X-Scimgate-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return errors.New("stale timestamp")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(r.Header.Get("X-Scimgate-Signature")), []byte(want)) {
		return errors.New("bad signature")
	}
	return nil
}

func TestDocumentedVerify(t *testing.T) {
	body := []byte(`{"type":"user.deactivated"}`)
	now := time.Now()
	r, _ := http.NewRequest("POST", "http://app.example/hook", bytes.NewReader(body))
	r.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	r.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte("k"), now, body))
	if err := verify([]byte("k"), r, body); err != nil {
		t.Fatalf("valid delivery refused: %v", err)
	}
	if err := verify([]byte("other"), r, body); err == nil {
		t.Fatal("wrong secret accepted")
	}
	if err := verify([]byte("k"), r, []byte(`{"type":"user.reactivated"}`)); err == nil {
		t.Fatal("tampered body accepted")
	}
	old := now.Add(-10 * time.Minute)
	r.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(old.Unix(), 10))
	r.Header.Set(webhook.HeaderSignature, webhook.Sign([]byte("k"), old, body))
	if err := verify([]byte("k"), r, body); err == nil {
		t.Fatal("stale delivery accepted")
	}
}
