package store

import (
	"fmt"
	"strconv"
	"strings"
)

// A compact document is encodeDoc's JSON with every JSON string (an object
// key or a value) that equals one of the aliases below, quotes included,
// replaced by two raw bytes: aliasMark and the alias's code. JSON never
// holds a raw control byte (encodeDoc and encoding/json escape them), so
// the alias cannot be mistaken for document text, and a document written
// before compact documents (none of them has aliasMark) reads unchanged.
// The codes are not ASCII either, so an ASCII text found in a compact
// document is in its JSON outside the aliases (see ScanDocs).

// aliasMark starts an alias in a compact document.
const aliasMark = 0x01

// aliasBase is the code of aliases[0]; aliases[i] has code aliasBase+i.
const aliasBase = 0x80

// aliases are the JSON strings a compact document abbreviates: the SCIM
// schema URNs and attribute names of RFC 7643 (core User and Group, the
// enterprise User extension) and the canonical type values IdPs send.
// Stored documents refer to them by position: only append to the list.
// Appending changes the compact form of documents holding the new string,
// so it needs its own rollout switch like scim.compact_resources: a
// release without the alias cannot read such documents, and sameDoc, which
// compares two compact documents byte for byte, would count a resent
// identical document stored under the shorter table as a change.
var aliases = [...]string{
	`"urn:ietf:params:scim:schemas:core:2.0:User"`,
	`"urn:ietf:params:scim:schemas:core:2.0:Group"`,
	`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
	`"schemas"`, `"externalId"`, `"userName"`, `"name"`, `"formatted"`, `"familyName"`, `"givenName"`,
	`"middleName"`, `"honorificPrefix"`, `"honorificSuffix"`, `"displayName"`, `"nickName"`, `"profileUrl"`,
	`"title"`, `"userType"`, `"preferredLanguage"`, `"locale"`, `"timezone"`, `"active"`, `"emails"`,
	`"phoneNumbers"`, `"ims"`, `"photos"`, `"addresses"`, `"streetAddress"`, `"locality"`, `"region"`,
	`"postalCode"`, `"country"`, `"entitlements"`, `"roles"`, `"x509Certificates"`, `"value"`, `"display"`,
	`"type"`, `"primary"`, `"employeeNumber"`, `"costCenter"`, `"organization"`, `"division"`, `"department"`,
	`"manager"`, `"$ref"`, `"work"`, `"home"`, `"other"`, `"mobile"`, `"fax"`,
}

// aliasCodes maps each alias to its code.
var aliasCodes = func() map[string]byte {
	m := make(map[string]byte, len(aliases))
	for i, a := range aliases {
		m[a] = byte(aliasBase + i)
	}
	return m
}()

// aliasMinLen and aliasMaxLen bound the aliases' lengths, so most strings
// of a document are passed over without a map lookup.
var aliasMinLen, aliasMaxLen = func() (lo, hi int) {
	lo = len(aliases[0])
	for _, a := range aliases {
		lo, hi = min(lo, len(a)), max(hi, len(a))
	}
	return lo, hi
}()

// compactDoc returns doc, encodeDoc's JSON, as a compact document. A doc
// that is not JSON free of raw control bytes is returned unchanged.
func compactDoc(doc string) string {
	if strings.IndexByte(doc, aliasMark) >= 0 {
		return doc
	}
	var b strings.Builder // empty until the first alias
	last := 0
	for i := 0; i < len(doc); i++ {
		if doc[i] != '"' {
			continue
		}
		j := i + 1 // the closing quote
		for j < len(doc) && doc[j] != '"' {
			if doc[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(doc) {
			break // unterminated: not JSON
		}
		if n := j + 1 - i; n >= aliasMinLen && n <= aliasMaxLen {
			if code, ok := aliasCodes[doc[i:j+1]]; ok {
				if last == 0 {
					b.Grow(len(doc))
				}
				b.WriteString(doc[last:i])
				b.WriteByte(aliasMark)
				b.WriteByte(code)
				last = j + 1
			}
		}
		i = j
	}
	if last == 0 {
		return doc
	}
	b.WriteString(doc[last:])
	return b.String()
}

// expandDoc returns the JSON of a stored document: doc itself unless it is
// a compact document (one scan for aliasMark), else with its aliases
// expanded (one allocation: the result).
func expandDoc(doc string) (string, error) {
	i := strings.IndexByte(doc, aliasMark)
	if i < 0 {
		return doc, nil
	}
	var buf [2048]byte // most documents expand in it
	b := buf[:0]
	for i >= 0 {
		if i+1 >= len(doc) {
			return "", fmt.Errorf("stored document ends in an alias mark")
		}
		a := aliasByCode[doc[i+1]]
		if a == "" {
			return "", fmt.Errorf("stored document has unknown alias %#x (written by a newer release?)", doc[i+1])
		}
		b = append(append(b, doc[:i]...), a...)
		doc = doc[i+2:]
		i = strings.IndexByte(doc, aliasMark)
	}
	return string(append(b, doc...)), nil
}

// aliasesContaining returns the aliases that contain an anchor (a folded
// one in either ASCII case; aliases are ASCII), each as it stands in a
// compact document (aliasMark and its code), concatenated.
func aliasesContaining(an anchor) string {
	var b []byte
	for i, a := range aliases {
		if an.fold {
			a = strings.ToLower(a)
		}
		if strings.Contains(a, an.text) {
			b = append(b, aliasMark, byte(aliasBase+i))
		}
	}
	return string(b)
}

// aliasByCode maps each code to its alias ("": not a code).
var aliasByCode = func() (t [256]string) {
	for i, a := range aliases {
		t[aliasBase+i] = a
	}
	return t
}()

// luaDocAliases defines sameDoc(cur, new) for the write script: whether
// the stored document cur (false: none) and the document new hold the same
// JSON. Two documents of one form (both compact, both not) are the same
// exactly when their bytes are; a compact one and a plain one (written by
// an older release, or with compact documents off) are compared expanded.
var luaDocAliases = func() string {
	var b strings.Builder
	// the table is built only when a comparison needs it, not on every run
	b.WriteString("\nlocal function docAliases()\n  return {")
	for i, a := range aliases {
		if strings.ContainsAny(a, `'\`) {
			panic("store: alias needs Lua escaping: " + a)
		}
		b.WriteString(`['\` + strconv.Itoa(aliasBase+i) + `']='` + a + `',`)
	}
	b.WriteString(`}
end
local function sameDoc(cur, new)
  if cur == new then return true end
  if not cur then return false end
  if (string.find(cur, '\1', 1, true) == nil) == (string.find(new, '\1', 1, true) == nil) then return false end
  local t = docAliases()
  return string.gsub(cur, '\1(.)', t) == string.gsub(new, '\1(.)', t)
end
`)
	return b.String()
}()
