package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// startPeerWith serves an elimity-com/scim upstream on loopback (over TLS
// with tls) that lets through the requests whose Authorization authorized
// accepts, logs every request, and serves extra (e.g. a token endpoint)
// on the same server when not nil.
func startPeerWith(t testing.TB, tls bool, authorized func(auth string) bool, extra http.Handler) (*httptest.Server, func() []peerRequest) {
	t.Helper()
	var srv http.Handler
	var mu sync.Mutex
	var log []peerRequest
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if extra != nil && !strings.HasPrefix(r.URL.Path, "/scim/") {
			extra.ServeHTTP(w, r)
			return
		}
		raw := make([]byte, 1<<16)
		n, _ := r.Body.Read(raw)
		mu.Lock()
		log = append(log, peerRequest{r.Method, r.URL.Path, r.Header.Get("Authorization"), string(raw[:n]), r.Header.Clone()})
		mu.Unlock()
		r.Body = readCloser{strings.NewReader(string(raw[:n]))}
		if !authorized(r.Header.Get("Authorization")) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		h := srv
		mu.Unlock()
		http.StripPrefix("/scim", h).ServeHTTP(w, r)
	})
	var hs *httptest.Server
	if tls {
		hs = httptest.NewTLSServer(h)
	} else {
		hs = httptest.NewServer(h)
	}
	t.Cleanup(hs.Close)
	peer := elimityPeer(t, hs.URL+"/scim/v2")
	mu.Lock()
	srv = peer
	mu.Unlock()
	return hs, func() []peerRequest { mu.Lock(); defer mu.Unlock(); return append([]peerRequest(nil), log...) }
}

// elimityPeer is an elimity-com/scim server of Users at base.
func elimityPeer(t testing.TB, base string) http.Handler {
	t.Helper()
	peer, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{SupportFiltering: true, SupportPatch: true, MaxResults: 100},
		ResourceTypes: []scim.ResourceType{{
			ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
			Schema: schema.CoreUserSchema(), Handler: &peerUsers{byID: map[string]scim.Resource{}, ver: map[string]int{}},
		}},
	}, scim.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	return peer
}
