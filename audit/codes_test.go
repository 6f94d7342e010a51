package audit

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCodeTables(t *testing.T) {
	if len(changedCodes) > len(codeChars) {
		t.Fatalf("%d changed codes, %d code characters", len(changedCodes), len(codeChars))
	}
	for _, c := range []enumCodes{actionCodes, methodCodes, typeCodes, changedCodes} {
		for i, v := range c {
			if slices.Index(c, v) != i {
				t.Errorf("%q is in a table twice", v)
			}
		}
	}
	// The stored codes of these must never change (entries in Redis hold
	// them): the tables may only grow at their end.
	for _, f := range []struct {
		c    enumCodes
		v    string
		code string
	}{{actionCodes, UserProvisioned, "0"}, {actionCodes, AuthFailed, "19"}, {methodCodes, "static_token", "0"},
		{methodCodes, "admin", "3"}, {typeCodes, "User", "0"}, {typeCodes, "Directory", "5"}} {
		if got := f.c.encode(f.v); got != f.code {
			t.Errorf("code of %q = %q, want %q", f.v, got, f.code)
		}
	}
	if got := encodeChanged([]string{"active", "userName", enterpriseURN, "members"}); got != "A0NM" {
		t.Errorf("changed codes = %q", got)
	}
}

func TestEnumCodes(t *testing.T) {
	for _, f := range []struct{ in, stored string }{
		{"SCIM_USER_UPDATED", "1"}, {"", ""}, {"CUSTOM", "CUSTOM"}, {"7", "=7"}, {"=x", "==x"},
		{"-1", "-1"}, {"99", "=99"}, {"0", "=0"},
	} {
		if got := actionCodes.encode(f.in); got != f.stored {
			t.Errorf("encode(%q) = %q, want %q", f.in, got, f.stored)
		}
		if got := actionCodes.decode(f.stored); got != f.in {
			t.Errorf("decode(%q) = %q, want %q", f.stored, got, f.in)
		}
	}
	// a later version's code, or digits no encoder writes, read as they are
	for _, s := range []string{"99", "007", "18446744073709551616"} {
		if got := actionCodes.decode(s); got != s {
			t.Errorf("decode(%q) = %q", s, got)
		}
	}
}

func TestChangedCodes(t *testing.T) {
	for _, f := range []struct {
		names  []string
		stored string
	}{
		{nil, ""},
		{[]string{"active"}, "A"},
		{[]string{"active", "displayName", "emails", "externalId", "name", "title", enterpriseURN, "userName"}, "A2CL15N0"},
		{[]string{"active", "name.familyName", "x", "~y", "", "Z"}, ",A,name.familyName,~x,~~y,~,~Z"},
		{[]string{"a,b", "active"}, `["a,b","active"]`},
		{[]string{"[x]", "y"}, ",[x],~y"},
		{[]string{enterpriseURN + ":manager.value"}, "," + enterpriseURN + ":manager.value"},
	} {
		got := encodeChanged(f.names)
		if got != f.stored {
			t.Errorf("encode(%q) = %q, want %q", f.names, got, f.stored)
		}
		back, ok := decodeChanged(got)
		if !ok || !slices.Equal(back, f.names) {
			t.Errorf("decode(%q) = %q, %v, want %q", got, back, ok, f.names)
		}
	}
	// a code character beyond the table stands for itself
	if got, _ := decodeChanged("Az"); !slices.Equal(got, []string{"active", "z"}) {
		t.Errorf("decode(Az) = %q", got)
	}
}

func TestPackID(t *testing.T) {
	for _, f := range []struct{ in, stored string }{
		{"01a237bf-9e7a-7c5c-815a-8a5c6ee0aa0a", "\x01\x01\xa2\x37\xbf\x9e\x7a\x7c\x5c\x81\x5a\x8a\x5c\x6e\xe0\xaa\x0a"},
		{"01A237BF-9E7A-7C5C-815A-8A5C6EE0AA0A", "01A237BF-9E7A-7C5C-815A-8A5C6EE0AA0A"}, // not canonical: verbatim
		{"{01a237bf-9e7a-7c5c-815a-8a5c6ee0aa0a}", "{01a237bf-9e7a-7c5c-815a-8a5c6ee0aa0a}"},
		{"01a237bf9e7a7c5c815a8a5c6ee0aa0a", "01a237bf9e7a7c5c815a8a5c6ee0aa0a"},
		{"", ""}, {"entra-prod", "entra-prod"},
		{"\x01abc", "\x02\x01abc"}, {"\x02", "\x02\x02"},
	} {
		if got := packID(f.in); got != f.stored {
			t.Errorf("packID(%q) = %q, want %q", f.in, got, f.stored)
		}
		if got := unpackID(f.stored); got != f.in {
			t.Errorf("unpackID(%q) = %q, want %q", f.stored, got, f.in)
		}
	}
}

// FuzzCodes: the codes of any value, id and list of names decode back to
// it, and whatever is stored decodes to something that encodes and
// decodes to the same.
func FuzzCodes(f *testing.F) {
	f.Add("active\x00userName\x00" + enterpriseURN)
	f.Add("a,b\x00\x00[")
	f.Add("~\x00~~\x00=\x0012\x00Z")
	f.Add(",A,~x,name.familyName")
	f.Add("01a237bf-9e7a-7c5c-815a-8a5c6ee0aa0a\x00\x01\x02\x00\x01aaaaaaaaaaaaaaaa")
	f.Fuzz(func(t *testing.T, s string) {
		names := strings.Split(s, "\x00")
		for _, c := range []enumCodes{actionCodes, methodCodes, typeCodes} {
			for _, v := range append(names, s) {
				if got := c.decode(c.encode(v)); got != v {
					t.Fatalf("enum %q -> %q -> %q", v, c.encode(v), got)
				}
				d := c.decode(v)
				if again := c.decode(c.encode(d)); again != d {
					t.Fatalf("stored %q decodes to %q, then %q", v, d, again)
				}
			}
		}
		for _, v := range append(names, s) {
			if got := unpackID(packID(v)); got != v {
				t.Fatalf("id %q -> %q -> %q", v, packID(v), got)
			}
			d := unpackID(v)
			if again := unpackID(packID(d)); again != d {
				t.Fatalf("stored id %q unpacks to %q, then %q", v, d, again)
			}
		}
		want := names
		if strings.Contains(s, ",") && !utf8.ValidString(s) {
			// names with a comma are stored as JSON, which holds invalid
			// UTF-8 as U+FFFD (as the admin API's JSON renders it anyway)
			b, _ := json.Marshal(names)
			_ = json.Unmarshal(b, &want)
		}
		back, ok := decodeChanged(encodeChanged(names))
		if !ok || !slices.Equal(back, want) {
			t.Fatalf("changed %q -> %q -> %q, %v", names, encodeChanged(names), back, ok)
		}
		if d, ok := decodeChanged(s); ok {
			again, ok := decodeChanged(encodeChanged(d))
			if !ok || !slices.Equal(again, d) && len(d)+len(again) > 0 {
				t.Fatalf("stored %q decodes to %q, then %q", s, d, again)
			}
		}
	})
}
