package server

import (
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// DrainBody makes refusals readable by clients that send their whole body
// before reading the answer (no "Expect: 100-continue": Python's urllib,
// many SDKs). When a handler answers without reading the body to its end
// (413 on the announced length, 401 before parsing), net/http reads at most
// 256 KB of the rest and otherwise closes the connection; the client, still
// writing, gets a reset and never sees the status. DrainBody reads and
// discards up to max more bytes (within the server's read timeout) before
// the answer goes out; a body larger than that still closes the connection.
//
// It does not drain when the handler's read failed (the connection is
// broken or timed out), nor when the client waits for "100 Continue" and
// the handler never asked for the body: that client sends nothing more.
func DrainBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		if max <= 0 || r.Body == nil || r.Body == http.NoBody {
			c.Next()
			return
		}
		tb := &trackedBody{ReadCloser: r.Body}
		r.Body = tb
		c.Next()
		if tb.done || (!tb.started && expectsContinue(r)) {
			return
		}
		_, _ = io.CopyN(io.Discard, tb.ReadCloser, max)
	}
}

// trackedBody records whether a request body was read at all and whether
// reading it ended (at EOF or with an error).
type trackedBody struct {
	io.ReadCloser
	started, done bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.started = true
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.done = true
	}
	return n, err
}

func expectsContinue(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("Expect")), "100-continue")
}
