package store

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimgate/scimgate/audit"
)

// The write and delete scripts get their journal and index entries ready
// to store: the audit record is rendered here, not decoded and re-encoded
// by cjson inside the script, which holds Redis while it runs.

// journalArgs are the journal ARGV of the write and delete scripts.
type journalArgs struct {
	maxLen string // "" = no journal
	event  string
	// changed is the change event's "changed" field: the changed
	// attribute names, comma-separated ("" for creations).
	changed string
	// audit records as stream entry fields (audit.AppendFields):
	// attributes changed (or nothing visible), attributes and members
	// changed, members only (the last two only when members may change).
	doc, docMembers, members []any
}

// encodeJournal renders j for a write of resource id at now; withMembers
// says whether the write may change members (the script then picks the
// record that names them). A creation with members adds them all, so only
// its attributes-and-members record is rendered, in the place of the
// attributes-only one (the script reads the lengths it is sent).
func encodeJournal(j *Journal, id string, now time.Time, withMembers, creating bool) journalArgs {
	if j == nil {
		return journalArgs{}
	}
	maxLen := j.MaxLen
	if maxLen <= 0 {
		maxLen = 1_000_000
	}
	out := journalArgs{maxLen: strconv.FormatInt(maxLen, 10), event: j.Event}
	if !strings.HasSuffix(j.Event, ".created") {
		out.changed = strings.Join(j.Audit.Changed, ",")
	}
	ev := j.Audit
	ev.Time = now
	ev.Target.ID = id
	if ev.Outcome == "" {
		ev.Outcome = audit.OutcomeSuccess
	}
	render := func(action string, members bool) []any {
		e := ev
		e.Action = action
		if members && !slices.Contains(e.Changed, "members") {
			e.Changed = append(slices.Clip(e.Changed), "members")
		}
		return audit.AppendFields(nil, e)
	}
	if creating && withMembers {
		out.docMembers = render(j.DocAction, true)
		return out
	}
	out.doc = render(j.DocAction, false)
	if withMembers {
		out.docMembers = render(j.DocAction, true)
		out.members = render(j.MemberAction, true)
	}
	return out
}

// ixEntry is one index entry as the scripts record it in "ix"/"ix2":
// [keyIndex (1-based in KEYS), value, unique(0|1)].
type ixEntry struct {
	key    int
	value  string
	unique bool
}

// appendIxEntries appends es as the JSON array the scripts record,
// byte for byte what encoding/json renders for [[key, value, unique], ...],
// without its reflection over one []any per entry.
func appendIxEntries(b []byte, es []ixEntry) ([]byte, error) {
	b = append(b, '[')
	for i, e := range es {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(e.key), 10)
		b = append(b, ',')
		v, err := json.Marshal(e.value)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
		b = append(b, ',', byte('0'+flagInt(e.unique)), ']')
	}
	return append(b, ']'), nil
}

// ixField returns the resource field recording ix's entries: "ix" for
// the first key layout's indexes, "ix2" for those added later, "ix3" for
// the backfilled ones (each field is read only by versions that know its
// KEYS positions).
func (ix index) ixField() int {
	switch {
	case ix.backfill:
		return 2
	case ix.added:
		return 1
	}
	return 0
}

// indexArgs returns the "ix", "ix2" and "ix3" field values of attrs ("" for
// an empty "ix2" or "ix3") and the index entries as the write script's
// trailing ARGV (keyIndex, value, unique, attribute; see writeScript), of
// the indexes enabled accepts.
func indexArgs(typ string, attrs map[string]any, enabled func(string, index) bool) (fields [3]string, flat []any, err error) {
	var byField [3][]ixEntry
	byField[0] = []ixEntry{}
	for i, x := range indexesOf(typ) {
		if x.legacy || !enabled(typ, x) {
			continue
		}
		for _, v := range x.values(attrs) {
			e := ixEntry{key: i + 3, value: v, unique: x.unique}
			byField[x.ixField()] = append(byField[x.ixField()], e)
			flat = append(flat, e.key, v, flagArg(x.unique), x.attr)
		}
	}
	for f, es := range byField {
		if es == nil {
			continue
		}
		b, err := appendIxEntries(make([]byte, 0, 64), es)
		if err != nil {
			return fields, nil, err
		}
		fields[f] = string(b)
	}
	return fields, flat, nil
}
