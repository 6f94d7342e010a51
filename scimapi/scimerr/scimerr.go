// Package scimerr holds the SCIM error type (RFC 7644 §3.12) shared by the
// resource logic, the store and the HTTP layer. Packages below HTTP return
// *Error values; the HTTP edge renders them with the SCIM error schema.
package scimerr

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/scimgate/scimgate/redisfault"
)

// ErrorSchema is the URN of the SCIM error response schema.
const ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// scimType values from RFC 7644 §3.12, table 9.
const (
	InvalidFilter  = "invalidFilter"
	TooMany        = "tooMany"
	Uniqueness     = "uniqueness"
	Mutability     = "mutability"
	InvalidSyntax  = "invalidSyntax"
	InvalidPath    = "invalidPath"
	NoTarget       = "noTarget"
	InvalidValue   = "invalidValue"
	InvalidVersion = "invalidVers"
	Sensitive      = "sensitive"
	InvalidCursor  = "invalidCursor"
	ExpiredCursor  = "expiredCursor"
)

// Error is a SCIM protocol error with an HTTP status, an optional scimType
// and a client-safe detail message.
type Error struct {
	Status   int
	ScimType string
	Detail   string
	// RetryAfter, when positive, is sent as Retry-After (RFC 9110 §10.2.3).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("scim %d: %s", e.Status, e.Detail)
}

// New returns an *Error with a formatted detail.
func New(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// BadRequest returns a 400 error of the given scimType.
func BadRequest(scimType, format string, args ...any) *Error {
	return New(http.StatusBadRequest, scimType, format, args...)
}

// NotFound returns a 404 error.
func NotFound(format string, args ...any) *Error {
	return New(http.StatusNotFound, "", format, args...)
}

// Conflict returns a 409 uniqueness error.
func Conflict(format string, args ...any) *Error {
	return New(http.StatusConflict, Uniqueness, format, args...)
}

// PreconditionFailed returns a 412 error for an If-Match mismatch.
func PreconditionFailed(format string, args ...any) *Error {
	return New(http.StatusPreconditionFailed, "", format, args...)
}

// As reports whether err is or wraps an *Error and returns it.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Body is the JSON body of a SCIM error response.
type Body struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// Unavailable returns the 503 for Redis trouble of kind k, with its
// Retry-After (see package redisfault).
func Unavailable(k redisfault.Kind) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Detail: redisfault.Detail(k), RetryAfter: redisfault.RetryAfter(k)}
}

// Resolve maps any error to the *Error it is answered with: an *Error as
// is, Redis trouble as 503 with Retry-After, anything else as a 500 with a
// generic detail so that nothing internal leaks.
func Resolve(err error) *Error {
	if e, ok := As(err); ok {
		return e
	}
	if k := redisfault.Classify(err); k != redisfault.None {
		return Unavailable(k)
	}
	return &Error{Status: http.StatusInternalServerError, Detail: "internal server error"}
}

// RetryAfterValue renders e's Retry-After in whole seconds, rounded up;
// "" when e has none.
func (e *Error) RetryAfterValue() string {
	if e.RetryAfter <= 0 {
		return ""
	}
	return strconv.FormatInt(int64((e.RetryAfter+time.Second-1)/time.Second), 10)
}

// Header sets the response headers e asks for (Retry-After) on h.
func (e *Error) Header(h http.Header) {
	if v := e.RetryAfterValue(); v != "" {
		h.Set("Retry-After", v)
	}
}

// ToBody maps any error to a SCIM error body and status (see Resolve).
// Callers that write the response also call Resolve(err).Header.
func ToBody(err error) (int, Body) {
	e := Resolve(err)
	return e.Status, Body{
		Schemas:  []string{ErrorSchema},
		Status:   fmt.Sprint(e.Status),
		ScimType: e.ScimType,
		Detail:   e.Detail,
	}
}
