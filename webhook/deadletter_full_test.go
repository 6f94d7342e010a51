package webhook

import (
	"errors"
	"testing"

	"github.com/scimgate/scimgate/redisfault"
	"github.com/scimgate/scimgate/redistest"
)

// TestDeadLetterOnFullRedis: at maxmemory Redis aborts the dead-letter
// MULTI/EXEC (EXECABORT); the error must carry the queued commands' OOM so
// it is classified as Redis trouble, not as an unknown failure.
func TestDeadLetterOnFullRedis(t *testing.T) {
	srv := redistest.StartServer(t, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
	c := srv.Client()
	srv.Fill()
	sub, err := NewSubscriber("https://app.example.com/hooks")
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(c, Options{Prefix: "scimgate:", Subscribers: []Subscriber{sub}, Secret: []byte("test-secret")})
	if err != nil {
		t.Fatal(err)
	}
	err = w.deadLetter(t.Context(), sub, "1-1", []byte(`{}`), 3, errors.New("receiver answered 500"))
	if k := redisfault.Classify(err); k != redisfault.OOM {
		t.Fatalf("deadLetter on a full Redis: %v (kind %q), want oom", err, k)
	}
}
