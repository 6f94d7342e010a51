package scimapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// Fast rendering. A resource's response is, in general,
// Project(render(decoded attributes)) re-encoded. When the request names no
// attributes/excludedAttributes, no role is added and the stored document
// is one the projection leaves as it is (no returned "never" or "request"
// attribute, no complex value the projection would drop, no key it might
// resolve differently), the response is the stored JSON itself with id,
// meta, members and groups appended: appendResource builds it without
// decoding anything. canonPlan decides, per document, by one scan of its
// bytes; anything unexpected takes the general path, so old documents and
// unusual ones are answered exactly as before. TestFastRenderEqualsSlow
// proves the two equal over generated resources.

// attrPlan says how the projection treats one stored top-level key.
type attrPlan struct {
	keep    bool      // returned as stored, whatever its value
	complex bool      // kept when every value is a non-empty object
	ext     canonPlan // an extension object: its keys, checked recursively
}

// canonPlan maps the exact keys the fast path accepts to their treatment;
// a key not in it sends the document down the general path.
type canonPlan map[string]*attrPlan

// newCanonPlan builds the plan of rt from its schemas.
func newCanonPlan(rt *schema.ResourceType) canonPlan {
	p := canonPlan{"schemas": {keep: true}}
	addAttrs(p, rt.Schema.Attributes)
	for _, e := range rt.Extensions {
		if e.Schema.ID == schema.RoleExtensionURN {
			continue // server-computed, added by render
		}
		sub := canonPlan{}
		addAttrs(sub, e.Schema.Attributes)
		p[e.Schema.ID] = &attrPlan{ext: sub}
	}
	// Set by render: their presence in a stored document is unexpected.
	for _, k := range []string{"id", "meta", "members", "groups"} {
		delete(p, k)
	}
	return p
}

func addAttrs(p canonPlan, attrs []*schema.Attribute) {
	for _, a := range attrs {
		switch {
		case a.Returned == schema.ReturnedNever || a.Returned == schema.ReturnedRequest:
			continue
		case a.Returned == schema.ReturnedAlways || a.Type != schema.TypeComplex:
			p[a.Name] = &attrPlan{keep: true}
		case !hasNeverSub(a):
			p[a.Name] = &attrPlan{complex: true}
		}
	}
}

func hasNeverSub(a *schema.Attribute) bool {
	for _, s := range a.SubAttributes {
		if s.Returned == schema.ReturnedNever {
			return true
		}
	}
	return false
}

// accepts reports whether the default projection leaves doc, a JSON object,
// unchanged.
func (p canonPlan) accepts(doc string) bool {
	s := jsonScan{b: doc}
	return s.object(p, true) && s.end()
}

// jsonScan walks JSON text without allocating. Every method reports false
// on anything it does not expect, which only costs the fast path.
type jsonScan struct {
	b string
	i int
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\t' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jsonScan) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScan) end() bool { s.ws(); return s.i == len(s.b) }

// key reads an object key without escapes and the colon after it.
func (s *jsonScan) key() (string, bool) {
	if s.peek() != '"' {
		return "", false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			return "", false
		case '"':
			s.i = j + 1
			if s.peek() != ':' {
				return "", false
			}
			s.i++
			return s.b[start:j], true
		}
	}
	return "", false
}

// object checks an object against p: with top, an empty object is fine
// (render adds id and meta); an extension object must not be empty.
func (s *jsonScan) object(p canonPlan, top bool) bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return top
	}
	for {
		k, ok := s.key()
		if !ok {
			return false
		}
		ap := p[k]
		switch {
		case ap == nil:
			return false
		case ap.keep:
			ok = s.skip()
		case ap.complex:
			ok = s.complexValue()
		default:
			ok = s.object(ap.ext, false)
		}
		if !ok {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// complexValue accepts a non-empty object or a non-empty array of them.
func (s *jsonScan) complexValue() bool {
	switch s.peek() {
	case '{':
		return s.nonEmptyObject()
	case '[':
		s.i++
		if s.peek() == ']' {
			return false
		}
		for {
			if !s.nonEmptyObject() {
				return false
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return true
			default:
				return false
			}
		}
	}
	return false
}

func (s *jsonScan) nonEmptyObject() bool {
	if s.peek() != '{' {
		return false
	}
	if s.i+1 < len(s.b) {
		save := s.i
		s.i++
		empty := s.peek() == '}'
		s.i = save
		if empty {
			return false
		}
	}
	return s.skip()
}

// skip passes over one JSON value.
func (s *jsonScan) skip() bool {
	switch c := s.peek(); c {
	case '"':
		for j := s.i + 1; j < len(s.b); j++ {
			switch s.b[j] {
			case '\\':
				j++
			case '"':
				s.i = j + 1
				return true
			}
		}
		return false
	case '{', '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		s.i++
		if s.peek() == closer {
			s.i++
			return true
		}
		for {
			if c == '{' {
				if !s.skipString() || s.peek() != ':' {
					return false
				}
				s.i++
			}
			if !s.skip() {
				return false
			}
			switch s.peek() {
			case ',':
				s.i++
			case closer:
				s.i++
				return true
			default:
				return false
			}
		}
	case 0:
		return false
	default: // number, true, false, null
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\n', '\t', '\r':
				return s.i > start
			}
			s.i++
		}
		return s.i > start
	}
}

func (s *jsonScan) skipString() bool { return s.peek() == '"' && s.skip() }

// fastRenderable reports whether r's response can be spliced from its
// stored document: see appendResource.
func (h *Handler) fastRenderable(rt *schema.ResourceType, r *store.Resource, p projection) bool {
	if len(p.attributes) > 0 || len(p.excluded) > 0 || r.Doc == "" || (r.Type == store.TypeUser && r.Role != "") {
		return false
	}
	plan := h.canon[rt]
	return plan != nil && plan.accepts(r.Doc)
}

// renderJSON appends the response representation of r under projection p,
// spliced from the stored document when fastRenderable, else rendered,
// projected and encoded.
func (h *Handler) renderJSON(buf []byte, rt *schema.ResourceType, r *store.Resource, base string, p projection) ([]byte, error) {
	if h.fastRenderable(rt, r, p) {
		if buf == nil {
			buf = make([]byte, 0, renderCap(r, base))
		}
		return appendResource(buf, rt, r, base), nil
	}
	if err := r.DecodeAttrs(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(schema.Project(rt, render(rt, r, base), p.attributes, p.excluded))
	if err != nil {
		return nil, err
	}
	return append(buf, b...), nil
}

// renderCap is the room the fast rendering of r usually needs.
func renderCap(r *store.Resource, base string) int {
	return len(r.Doc) + 320 + len(base)*(1+len(r.Groups)+len(r.Members))
}

// appendResource appends what render adds to the stored document (id,
// meta, members, groups), in the same form, spliced into its JSON.
func appendResource(buf []byte, rt *schema.ResourceType, r *store.Resource, base string) []byte {
	// doc is a JSON object (canonPlan.accepts): drop its closing brace.
	inner := strings.TrimRight(r.Doc, " \t\r\n")
	inner = strings.TrimRight(inner[:max(len(inner)-1, 0)], " \t\r\n")
	buf = append(buf, inner...)
	if strings.HasSuffix(inner, "{") {
		buf = append(buf, `"id":`...)
	} else {
		buf = append(buf, `,"id":`...)
	}
	buf = appendJSONString(buf, r.ID)
	buf = append(buf, `,"meta":{"resourceType":`...)
	buf = appendJSONString(buf, rt.Name)
	buf = append(buf, `,"created":"`...)
	buf = r.Created.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","lastModified":"`...)
	buf = r.Modified.UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, `","location":`...)
	buf = store.AppendJSONStringParts(buf, base, rt.Endpoint, "/", r.ID)
	buf = append(buf, `,"version":"W/\"`...)
	buf = strconv.AppendInt(buf, r.Version, 10)
	buf = append(buf, `\""}`...)
	if len(r.Members) > 0 {
		buf = append(buf, `,"members":[`...)
		for i, m := range r.Members {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"$ref":`...)
			buf = store.AppendJSONStringParts(buf, base, "/", m.Type, "s/", m.Value)
			if m.Display != "" {
				buf = append(buf, `,"display":`...)
				buf = appendJSONString(buf, m.Display)
			}
			buf = append(buf, `,"type":`...)
			buf = appendJSONString(buf, m.Type)
			buf = append(buf, `,"value":`...)
			buf = appendJSONString(buf, m.Value)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	if len(r.Groups) > 0 {
		buf = append(buf, `,"groups":[`...)
		for i, g := range r.Groups {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"$ref":`...)
			buf = store.AppendJSONStringParts(buf, base, "/Groups/", g.Value)
			buf = append(buf, `,"display":`...)
			buf = appendJSONString(buf, g.Display)
			buf = append(buf, `,"type":"direct","value":`...)
			buf = appendJSONString(buf, g.Value)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	return append(buf, '}')
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML-safe; invalid UTF-8 becomes U+FFFD).
func appendJSONString(buf []byte, s string) []byte { return store.AppendJSONString(buf, s) }
