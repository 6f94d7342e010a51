// Package bodyerr classifies failures to read a request body. Such a
// failure is the client's (it sent too much, too slowly, or went away
// mid-body), so it is answered and counted as a 4xx, never as a 500 logged
// at ERROR.
package bodyerr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
)

// Error is a request body that could not be read, with the status to
// answer: 413 (over the size limit), 408 (not received within the read
// timeout) or 400 (ended early, malformed chunking, connection reset).
type Error struct {
	Status int
	Detail string
	Err    error
}

func (e *Error) Error() string { return e.Detail + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Classify turns an error returned while reading a request body into an
// *Error. It returns nil for nil, and err unchanged when reading after
// Close (a handler bug, not the client's doing).
func Classify(err error) error {
	if err == nil || errors.Is(err, http.ErrBodyReadAfterClose) {
		return err
	}
	var be *Error
	if errors.As(err, &be) {
		return be
	}
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("request body exceeds %d bytes", mbe.Limit), Err: err}
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &Error{Status: http.StatusRequestTimeout, Detail: "request body not received within the read timeout", Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &Error{Status: http.StatusBadRequest, Detail: "request body ended before its announced length", Err: err}
	}
	return &Error{Status: http.StatusBadRequest, Detail: "request body could not be read", Err: err}
}

// Reader wraps a request body and keeps the first error other than io.EOF
// that reading it returned, so a caller whose decoder reports only its
// own view (e.g. encoding/json's "unexpected EOF") can tell a transport
// failure from malformed content.
type Reader struct {
	R   io.Reader
	Err error
}

// Read reads from R, recording its first failure.
func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	if err != nil && err != io.EOF && r.Err == nil {
		r.Err = err
	}
	return n, err
}

// StatusClientClosedRequest is recorded (logs, metrics) for a request
// whose client went away before the answer, so its work was cancelled: no
// one reads the status, and it is the client's doing, not a server
// failure. 499 is nginx's code for the same case.
const StatusClientClosedRequest = 499

// ClientGone reports whether err is the cancellation that follows the
// client closing its connection (net/http cancels the request context),
// rather than a failure of the server.
func ClientGone(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(r.Context().Err(), context.Canceled)
}
