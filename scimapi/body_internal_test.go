package scimapi

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// TestDecodeJSON: a request body is one JSON object (RFC 7644 §3.12: a
// body that is not is 400 invalidSyntax; a value of the wrong type for
// its Go field is invalidValue), with nothing but whitespace after it.
func TestDecodeJSON(t *testing.T) {
	for _, tc := range []struct {
		body, scimType, detail string
	}{
		{`{"userName":"ada"}`, "", ""},
		{" {\"userName\":\"ada\"} \n\t", "", ""},
		{`{"userName":"ada"} {"userName":"bob"}`, scimerr.InvalidSyntax, "data after"},
		// a stray closing brace after the object: json.Decoder.More reports
		// no further value there, so the decoder used before accepted it
		{`{"userName":"ada"}}`, scimerr.InvalidSyntax, "data after"},
		{`{"userName":"ada"} x`, scimerr.InvalidSyntax, "data after"},
		{`{"userName":"ada"`, scimerr.InvalidSyntax, "not valid JSON"},
		{`{"userName":}`, scimerr.InvalidSyntax, "not valid JSON"},
		{``, scimerr.InvalidSyntax, "not valid JSON"},
		{`null`, scimerr.InvalidSyntax, "must be a JSON object"},
		{`[1]`, scimerr.InvalidSyntax, "not valid JSON"},
		{strings.Repeat("[", 20000) + strings.Repeat("]", 20000), scimerr.InvalidSyntax, "not valid JSON"},
	} {
		var m map[string]any
		err := decodeJSON([]byte(tc.body), &m)
		if tc.scimType == "" {
			if err != nil || m["userName"] != "ada" {
				t.Errorf("%.40q: %v %v", tc.body, m, err)
			}
			continue
		}
		var se *scimerr.Error
		if !errors.As(err, &se) || se.Status != 400 || se.ScimType != tc.scimType || !strings.Contains(se.Detail, tc.detail) {
			t.Errorf("%.40q: %v, want 400 %s %q", tc.body, err, tc.scimType, tc.detail)
		}
	}
	var typed struct{ Operations []any }
	err := decodeJSON([]byte(`{"Operations":"x"}`), &typed)
	var se *scimerr.Error
	if !errors.As(err, &se) || se.ScimType != scimerr.InvalidValue || !strings.Contains(se.Detail, "Operations") {
		t.Errorf("wrong type: %v", err)
	}
}

// TestReadAll: the body reads whole whether its length is declared or
// not, in pieces of any size; a body cut short is an error.
func TestReadAll(t *testing.T) {
	body := strings.Repeat("0123456789", 100)
	for _, n := range []int64{int64(len(body)), -1} {
		for name, r := range map[string]io.Reader{
			"whole":    strings.NewReader(body),
			"one byte": iotest.OneByteReader(strings.NewReader(body)),
		} {
			got, err := readAll(r, n)
			if err != nil || string(got) != body {
				t.Errorf("n=%d %s: %d bytes, %v", n, name, len(got), err)
			}
		}
	}
	// fewer bytes than declared: the reader's own error comes through
	cut := io.MultiReader(strings.NewReader(body[:10]), iotest.ErrReader(io.ErrUnexpectedEOF))
	if _, err := readAll(cut, int64(len(body))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short body: %v", err)
	}
	// more bytes than declared (a reader that does not stop): still whole
	got, err := readAll(strings.NewReader(body), 10)
	if err != nil || string(got) != body {
		t.Errorf("n below the length: %d bytes, %v", len(got), err)
	}
}
