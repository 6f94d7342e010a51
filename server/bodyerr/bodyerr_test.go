package bodyerr

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&http.MaxBytesError{Limit: 10}, 413},
		{fmt.Errorf("read: %w", os.ErrDeadlineExceeded), 408},
		{io.ErrUnexpectedEOF, 400},
		{fmt.Errorf("read tcp: %w", syscall.ECONNRESET), 400},
		{errors.New("http: invalid byte in chunk length"), 400},
	} {
		var be *Error
		if !errors.As(Classify(tc.err), &be) || be.Status != tc.want {
			t.Errorf("%v: got %v, want %d", tc.err, Classify(tc.err), tc.want)
		}
	}
	if err := Classify(http.ErrBodyReadAfterClose); err != http.ErrBodyReadAfterClose {
		t.Errorf("read after close is a handler bug, not the client's: %v", err)
	}
	if Classify(nil) != nil {
		t.Error("nil classified")
	}
}
