package audit

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Stream entry layout. An event is written as one short field per Event
// field, always the base fields below in this order and then the optional
// ones it has. A Redis stream stores the field names of an entry only once
// per listpack node when they equal the node's first entry's, so an entry
// costs little more than its values.
//
// The time field's name tells the layouts apart. Entries written since the
// coded layout hold fTime: their action, auth method, target type and
// changed names are short codes, and their client, target and request ids
// that are UUIDs hold the UUIDs' 16 bytes (codes.go). Entries of the previous
// version hold fPlainTime and every value verbatim; entries of earlier
// versions hold the event's JSON in the single field legacyField. Decode
// reads all three.
const (
	fTime       = "T"  // unix nanoseconds, or RFC 3339 text outside that range
	fAction     = "a"  // action (actionCodes)
	fClient     = "ci" // actor client id (packID)
	fMethod     = "am" // actor auth method (methodCodes)
	fCredential = "cr" // actor credential id
	fTargetType = "tt" // target type (typeCodes)
	fTargetID   = "ti" // target id (packID)
	fTargetName = "tn" // target name
	fRequest    = "rq" // request id (packID)
	fOutcome    = "o"  // "" = success
	fChanged    = "ch" // changed attributes (encodeChanged)
	fSourceIP   = "ip" // source ip
	// optional, written only when set
	fReason  = "rs"
	fNetwork = "nw"
	fRoute   = "rt"
	fCount   = "n"
	fFirst   = "f"
	fLast    = "l"

	fPlainTime  = "t" // the time field of the previous, uncoded layout
	legacyField = "e" // the event's JSON (entries of earlier versions)
)

// baseFields is the number of field names and values every entry holds.
const baseFields = 2 * 12

// AppendFields appends e's stream entry fields (name, value, name, value,
// ...) to dst: the arguments of XADD after the id, also as a Lua script
// passes them on. An empty Outcome is written as success, as every writer
// records it.
func AppendFields(dst []any, e Event) []any {
	outcome := e.Outcome
	if outcome == OutcomeSuccess {
		outcome = ""
	}
	dst = slices.Grow(dst, baseFields)
	dst = append(dst,
		fTime, timeValue(e.Time),
		fAction, actionCodes.encode(e.Action),
		fClient, packID(e.Actor.ClientID),
		fMethod, methodCodes.encode(e.Actor.AuthMethod),
		fCredential, e.Actor.CredentialID,
		fTargetType, typeCodes.encode(e.Target.Type),
		fTargetID, packID(e.Target.ID),
		fTargetName, e.Target.Name,
		fRequest, packID(e.RequestID),
		fOutcome, outcome,
		fChanged, encodeChanged(e.Changed),
		fSourceIP, e.SourceIP)
	for _, kv := range [...][2]string{{fReason, e.Reason}, {fNetwork, e.Network}, {fRoute, e.Route}} {
		if kv[1] != "" {
			dst = append(dst, kv[0], kv[1])
		}
	}
	if e.Count != 0 {
		dst = append(dst, fCount, strconv.FormatInt(e.Count, 10))
	}
	if e.First != nil {
		dst = append(dst, fFirst, timeValue(*e.First))
	}
	if e.Last != nil {
		dst = append(dst, fLast, timeValue(*e.Last))
	}
	return dst
}

// timeValue renders t as unix nanoseconds (which Redis stores as an
// integer), or as RFC 3339 text when nanoseconds since 1970 cannot hold it.
func timeValue(t time.Time) string {
	if ns := t.UnixNano(); time.Unix(0, ns).Equal(t) {
		return strconv.FormatInt(ns, 10)
	}
	return t.Format(time.RFC3339Nano)
}

func parseTime(s string) (time.Time, bool) {
	if ns, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(0, ns).UTC(), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// parseChanged reads the changed names of the plain layout: joined with
// commas, or a JSON array when commas could not tell them apart.
func parseChanged(s string) ([]string, bool) {
	switch {
	case s == "":
		return nil, true
	case s[0] == '[':
		var names []string
		err := json.Unmarshal([]byte(s), &names)
		return names, err == nil
	}
	return strings.Split(s, ","), true
}

// Decode returns the event a stream entry holds, in any layout (see
// AppendFields; the uncoded fields and the JSON of earlier versions). ok
// is false for an entry that holds no event or a malformed one.
func Decode(m redis.XMessage) (e Event, ok bool) {
	if _, legacy := m.Values[legacyField]; legacy {
		raw, _ := m.Values[legacyField].(string)
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return Event{}, false
		}
		e.ID = m.ID
		return e, true
	}
	str := func(name string) string { s, _ := m.Values[name].(string); return s }
	plain := func(s string) string { return s }
	action, method, typ, id, changed := actionCodes.decode, methodCodes.decode, typeCodes.decode, unpackID, decodeChanged
	t, has := m.Values[fTime].(string)
	if !has {
		if t, has = m.Values[fPlainTime].(string); !has {
			return Event{}, false
		}
		action, method, typ, id, changed = plain, plain, plain, plain, parseChanged
	}
	if e.Time, ok = parseTime(t); !ok {
		return Event{}, false
	}
	if e.Changed, ok = changed(str(fChanged)); !ok {
		return Event{}, false
	}
	e.ID = m.ID
	e.Action = action(str(fAction))
	e.Actor = Actor{ClientID: id(str(fClient)), AuthMethod: method(str(fMethod)), CredentialID: str(fCredential)}
	e.Target = Target{Type: typ(str(fTargetType)), ID: id(str(fTargetID)), Name: str(fTargetName)}
	e.RequestID = id(str(fRequest))
	if e.Outcome = str(fOutcome); e.Outcome == "" {
		e.Outcome = OutcomeSuccess
	}
	e.SourceIP = str(fSourceIP)
	e.Reason, e.Network, e.Route = str(fReason), str(fNetwork), str(fRoute)
	if n := str(fCount); n != "" {
		var err error
		if e.Count, err = strconv.ParseInt(n, 10, 64); err != nil {
			return Event{}, false
		}
	}
	for _, f := range [...]struct {
		name string
		dst  **time.Time
	}{{fFirst, &e.First}, {fLast, &e.Last}} {
		if v, has := m.Values[f.name].(string); has {
			t, ok := parseTime(v)
			if !ok {
				return Event{}, false
			}
			*f.dst = &t
		}
	}
	return e, true
}
