package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// request is one HTTP request a receiver got.
type request struct {
	Event   Event
	Attempt int // 1-based, per delivery id
	Status  int
	At      time.Time
	SigErr  error
}

// receiver is a local webhook endpoint. respond picks the status of each
// request (attempt counts requests per delivery id); nil answers 200.
type receiver struct {
	t       testing.TB
	srv     *httptest.Server
	secret  []byte
	respond func(ctx context.Context, attempt int, ev Event) int

	mu       sync.Mutex
	reqs     []request
	attempts map[string]int
	ok       chan request // accepted deliveries
}

func newReceiver(t testing.TB, secret []byte, respond func(ctx context.Context, attempt int, ev Event) int) *receiver {
	rc := &receiver{t: t, secret: secret, respond: respond, attempts: map[string]int{}, ok: make(chan request, 10000)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	req := request{At: at}
	req.SigErr = Verify(rc.secret, r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp), body, time.Now(), 5*time.Minute)
	if err := json.Unmarshal(body, &req.Event); err != nil {
		rc.t.Errorf("body is not an event: %v: %s", err, body)
	}
	if got := r.Header.Get(HeaderDelivery); got != req.Event.DeliveryID {
		rc.t.Errorf("%s %q, body delivery_id %q", HeaderDelivery, got, req.Event.DeliveryID)
	}
	if got := r.Header.Get(HeaderEvent); got != req.Event.Type {
		rc.t.Errorf("%s %q, body type %q", HeaderEvent, got, req.Event.Type)
	}
	rc.mu.Lock()
	rc.attempts[req.Event.DeliveryID]++
	req.Attempt = rc.attempts[req.Event.DeliveryID]
	rc.mu.Unlock()
	req.Status = http.StatusOK
	if rc.respond != nil {
		req.Status = rc.respond(r.Context(), req.Attempt, req.Event)
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, req)
	rc.mu.Unlock()
	w.WriteHeader(req.Status)
	if req.Status/100 == 2 {
		rc.ok <- req
	}
}

// requests returns a copy of every request so far.
func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.reqs...)
}

// waitOK returns the next n accepted deliveries, failing after timeout.
func (rc *receiver) waitOK(n int, timeout time.Duration) []request {
	rc.t.Helper()
	var out []request
	deadline := time.After(timeout)
	for len(out) < n {
		select {
		case r := <-rc.ok:
			out = append(out, r)
		case <-deadline:
			rc.t.Fatalf("got %d of %d deliveries within %s", len(out), n, timeout)
		}
	}
	return out
}

// quiet fails if a delivery is accepted within d.
func (rc *receiver) quiet(d time.Duration) {
	rc.t.Helper()
	select {
	case r := <-rc.ok:
		rc.t.Fatalf("unexpected delivery %s (%s, attempt %d)", r.Event.DeliveryID, r.Event.Type, r.Attempt)
	case <-time.After(d):
	}
}
