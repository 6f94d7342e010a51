package store

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// encodeDoc returns attrs as JSON, byte for byte what json.Marshal
// renders: a document of JSON-native values (the decoded request body:
// maps, slices, strings, float64, bool, nil) is appended directly, without
// encoding/json's reflection over each map entry, anything else goes
// through json.Marshal.
func encodeDoc(attrs map[string]any) (string, error) {
	if b, ok := appendJSON(make([]byte, 0, 1024), attrs); ok {
		return string(b), nil
	}
	b, err := json.Marshal(attrs)
	return string(b), err
}

// appendJSON appends v as json.Marshal renders it and reports true, or
// reports false when v holds a value it does not render (a type other
// than the JSON-native ones, a NaN or infinity).
func appendJSON(b []byte, v any) ([]byte, bool) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		return strconv.AppendBool(b, t), true
	case float64:
		return appendJSONFloat(b, t)
	case string:
		return AppendJSONString(b, t), true
	case []any:
		if t == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendJSON(b, e); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case map[string]any:
		if t == nil {
			return append(b, "null"...), true
		}
		var kbuf [32]string // most documents' objects have fewer keys
		keys := kbuf[:0]
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(AppendJSONString(b, k), ':')
			var ok bool
			if b, ok = appendJSON(b, t[k]); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}
	return b, false
}

// appendJSONFloat renders f as encoding/json does a float64 (ES6 number
// formatting); NaN and infinities are not JSON.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 is rendered e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

const jsonHex = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, byte for byte as
// encoding/json renders it: HTML characters and U+2028/U+2029 escaped,
// invalid UTF-8 replaced by U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	return append(appendJSONStringBody(append(b, '"'), s), '"')
}

// AppendJSONStringParts is AppendJSONString of the parts concatenated,
// without building the concatenation when every part is valid UTF-8 (the
// usual case: then every rune lies within one part and is escaped alone,
// as in the whole).
func AppendJSONStringParts(b []byte, parts ...string) []byte {
	for _, p := range parts {
		if !utf8.ValidString(p) {
			return AppendJSONString(b, strings.Join(parts, ""))
		}
	}
	b = append(b, '"')
	for _, p := range parts {
		b = appendJSONStringBody(b, p)
	}
	return append(b, '"')
}

// appendJSONStringBody appends s escaped as in a JSON string, without the
// quotes.
func appendJSONStringBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
			start = i + size
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', jsonHex[r&0xF])
			start = i + size
		}
		i += size
	}
	return append(b, s[start:]...)
}
