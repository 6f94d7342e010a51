package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
)

// RequireBearer guards h (the /metrics handler) with a bearer token given
// by its hex SHA-256 (metrics.token_hash): a request without
// "Authorization: Bearer <token>" whose SHA-256 matches, compared in
// constant time, gets 401 with WWW-Authenticate (RFC 6750 §3). An empty
// hash leaves h open.
func RequireBearer(h http.Handler, hexHash string) (http.Handler, error) {
	if hexHash == "" {
		return h, nil
	}
	want, err := hex.DecodeString(hexHash)
	if err != nil || len(want) != sha256.Size {
		return nil, errors.New("metrics.token_hash must be 64 hex digits (SHA-256)")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics require a bearer token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}), nil
}
