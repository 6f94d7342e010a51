package audit

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Short codes of the coded layout (AppendFields). The tables are part of
// what is stored in Redis: entries are only ever appended to them, never
// reordered or removed, or entries already written would decode wrongly.

// actionCodes code the Action field: a code is the decimal index.
var actionCodes = enumCodes{
	UserProvisioned, UserUpdated, UserDeprovisioned, UserReactivated, UserDeleted,
	GroupCreated, GroupSynced, GroupDeleted, GroupMembershipChanged,
	ClientCreated, ClientUpdated, ClientDeleted, TokenCreated, TokenRevoked,
	SecretRotated, KeyRotated, DirectoryCreated, DirectoryUpdated, DirectoryDeleted,
	AuthFailed,
}

// methodCodes code Actor.AuthMethod (auth.Method values and the admin
// API's; written out here because the stored codes must not follow a
// rename).
var methodCodes = enumCodes{"static_token", "client_credentials", "idp_jwt", "admin"}

// typeCodes code Target.Type.
var typeCodes = enumCodes{"User", "Group", "Client", "Token", "Key", "Directory"}

// enterpriseURN is the SCIM enterprise User extension's schema URN.
const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// changedCodes code the names in Changed, one character each (the
// character at the same index of codeChars): the attributes of the SCIM
// core User and Group schemas (RFC 7643 §4) and the enterprise extension,
// whole and by attribute as PATCH names them.
var changedCodes = []string{
	"userName", "name", "displayName", "nickName", "profileUrl", "title", "userType",
	"preferredLanguage", "locale", "timezone", "active", "password", "emails",
	"phoneNumbers", "ims", "photos", "addresses", "groups", "entitlements", "roles",
	"x509Certificates", "externalId", "members",
	enterpriseURN, enterpriseURN + ":employeeNumber", enterpriseURN + ":costCenter",
	enterpriseURN + ":organization", enterpriseURN + ":division",
	enterpriseURN + ":department", enterpriseURN + ":manager",
}

// codeChars are the characters that stand for changedCodes.
const codeChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

var changedIndex = func() map[string]byte {
	m := make(map[string]byte, len(changedCodes))
	for i, n := range changedCodes {
		m[n] = codeChars[i]
	}
	return m
}()

// enumCodes codes the values of one field: a value in the list is written
// as its decimal index (which Redis keeps as a one-byte integer), any
// other value verbatim, behind '=' when it is all digits or starts with
// '=' so that it cannot be taken for a code.
type enumCodes []string

func (c enumCodes) encode(v string) string {
	if i := slices.Index(c, v); i >= 0 {
		return strconv.Itoa(i)
	}
	if strings.HasPrefix(v, "=") || allDigits(v) {
		return "=" + v
	}
	return v
}

// decode returns the value s codes. A number beyond the table (written by
// a later version with a longer table) is returned as it is.
func (c enumCodes) decode(s string) string {
	if rest, ok := strings.CutPrefix(s, "="); ok {
		return rest
	}
	if allDigits(s) && (len(s) == 1 || s[0] != '0') {
		if i, err := strconv.Atoi(s); err == nil && i < len(c) {
			return c[i]
		}
	}
	return s
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// encodeChanged renders names for the coded layout:
//
//   - "" for none;
//   - when every name has a code, the codes, one character each
//     ("0B" = userName, active);
//   - when a name holds a comma, the JSON array of the names;
//   - otherwise ',' and the names joined by ',', a coded name as its
//     code, any other verbatim, behind '~' when it is shorter than two
//     bytes or starts with '~' (so it cannot be taken for a code).
func encodeChanged(names []string) string {
	if len(names) == 0 {
		return ""
	}
	if slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, ",") }) {
		b, _ := json.Marshal(names) // a []string always encodes
		return string(b)
	}
	var buf [len(codeChars)]byte
	coded := buf[:0]
	for _, n := range names {
		c, ok := changedIndex[n]
		if !ok {
			return encodeMixed(names)
		}
		coded = append(coded, c)
	}
	return string(coded)
}

func encodeMixed(names []string) string {
	var b strings.Builder
	n := 0
	for _, name := range names {
		n += 2 + len(name)
	}
	b.Grow(n)
	for _, n := range names {
		b.WriteByte(',')
		if c, ok := changedIndex[n]; ok {
			b.WriteByte(c)
			continue
		}
		if len(n) < 2 || n[0] == '~' {
			b.WriteByte('~')
		}
		b.WriteString(n)
	}
	return b.String()
}

// decodeChanged reverses encodeChanged. A code character beyond the table
// (a later version's) stands for itself; ok is false for a value that is
// none of the forms.
func decodeChanged(s string) ([]string, bool) {
	switch {
	case s == "" || s[0] == '[':
		return parseChanged(s) // as in the plain layout
	case s[0] == ',':
		names := strings.Split(s[1:], ",")
		for i, n := range names {
			if rest, ok := strings.CutPrefix(n, "~"); ok {
				names[i] = rest
			} else if len(n) == 1 {
				names[i] = changedName(n)
			}
		}
		return names, true
	}
	names := make([]string, len(s))
	for i := range len(s) {
		if !strings.Contains(codeChars, s[i:i+1]) {
			return nil, false
		}
		names[i] = changedName(s[i : i+1])
	}
	return names, true
}

// changedName returns the name the one-byte code c stands for.
func changedName(c string) string {
	if i := strings.IndexByte(codeChars, c[0]); i >= 0 && i < len(changedCodes) {
		return changedCodes[i]
	}
	return c
}

// Markers of packID: a UUID as its 16 bytes, or a value kept verbatim
// that starts with a marker byte.
const (
	packedUUID = '\x01'
	escapedID  = '\x02'
)

// packID renders an id for the coded layout: a UUID in its canonical text
// (36 lower-case characters, as the gateway generates ids, request ids
// and client ids) as a marker byte and its 16 bytes, any other value
// verbatim, behind escapedID when it starts with a marker byte.
func packID(v string) string {
	if u, ok := parseUUID(v); ok {
		var b [17]byte
		b[0] = packedUUID
		copy(b[1:], u[:])
		return string(b[:])
	}
	if v != "" && (v[0] == packedUUID || v[0] == escapedID) {
		return string(escapedID) + v
	}
	return v
}

// unpackID reverses packID; a value packID cannot have written is
// returned as it is.
func unpackID(s string) string {
	switch {
	case len(s) == 17 && s[0] == packedUUID:
		return uuid.UUID([]byte(s[1:])).String()
	case s != "" && s[0] == escapedID:
		return s[1:]
	}
	return s
}

// parseUUID returns the bytes of s when s is a UUID in the canonical
// lower-case text, the only text unpackID gives back.
func parseUUID(s string) (uuid.UUID, bool) {
	// uuid.Parse reads 36 characters only as the dashed form, in either
	// case
	if len(s) != 36 || strings.ContainsAny(s, "ABCDEF") {
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(s)
	return u, err == nil
}
