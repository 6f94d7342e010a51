package oauth

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// RFC 6749 §5.2 error codes used outside the library's own errors.
const (
	codeInvalidRequest       = "invalid_request"
	codeInvalidClient        = "invalid_client"
	codeInvalidScope         = "invalid_scope"
	codeUnsupportedGrantType = "unsupported_grant_type"
	codeServerError          = "server_error"
	codeTemporarily          = "temporarily_unavailable"
	codeUnsupportedTokenType = "unsupported_token_type"
	// codeTooManyAttempts is not in RFC 6749; the 429 status carries the meaning.
	codeTooManyAttempts = "too_many_attempts"
)

// basicChallenge is the WWW-Authenticate of an invalid_client answer.
const basicChallenge = `Basic realm="scimgate", charset="UTF-8"`

// noStore sets the headers every token-endpoint answer carries (RFC 6749 §5.1).
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// writeJSON writes v with status and the no-store headers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	noStore(w)
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes an RFC 6749 §5.2 error body. invalid_client gets 401
// with a Basic challenge, server errors 500/503 (503 with Retry-After),
// everything else 400.
func writeError(w http.ResponseWriter, code, description string) {
	status := http.StatusBadRequest
	switch code {
	case codeInvalidClient:
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", basicChallenge)
	case codeServerError:
		status = http.StatusInternalServerError
	case codeTemporarily:
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	writeJSON(w, status, body)
}

// writeTooMany answers a client over its failed-authentication limit.
func writeTooMany(w http.ResponseWriter, retry time.Duration) {
	w.Header().Set("Retry-After", strconv.FormatInt(retrySeconds(retry), 10))
	writeJSON(w, http.StatusTooManyRequests, map[string]string{
		"error":             codeTooManyAttempts,
		"error_description": "too many failed client authentications; retry later",
	})
}

// retrySeconds is retry in whole seconds for Retry-After, rounded up, at
// least 1.
func retrySeconds(retry time.Duration) int64 {
	return max(int64((retry+time.Second-1)/time.Second), 1)
}
