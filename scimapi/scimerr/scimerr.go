// Package scimerr holds the SCIM error type (RFC 7644 §3.12) shared by the
// resource logic, the store and the HTTP layer. Packages below HTTP return
// *Error values; the HTTP edge renders them with the SCIM error schema.
package scimerr

import (
	"errors"
	"fmt"
	"net/http"
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

// ToBody maps any error to a SCIM error body and status. Errors that are not
// *Error become a 500 with a generic detail so that nothing internal leaks.
func ToBody(err error) (int, Body) {
	e, ok := As(err)
	if !ok {
		e = &Error{Status: http.StatusInternalServerError, Detail: "internal server error"}
	}
	return e.Status, Body{
		Schemas:  []string{ErrorSchema},
		Status:   fmt.Sprint(e.Status),
		ScimType: e.ScimType,
		Detail:   e.Detail,
	}
}
