package upstream

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/scimgate/scimgate/scimapi/patch"
)

// memberFilterPath matches a PATCH path selecting one member by id,
// members[value eq "id"], capturing the JSON string.
var memberFilterPath = regexp.MustCompile(`^(?i:(?:urn:ietf:params:scim:schemas:core:2\.0:group:)?members)\s*\[\s*(?i:value)\s+(?i:eq)\s+("(?:[^"\\]|\\.)*")\s*\]$`)

// memberIDs lists the ids of a members value ([{"value":"id"}, …]).
func memberIDs(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, e := range arr {
		m, _ := e.(map[string]any)
		if id, _ := m["value"].(string); id != "" {
			out = append(out, id)
		}
	}
	return out
}

// memberChanges derives the members a group write the upstream accepted
// added and removed, for group.member_added / group.member_removed. It is
// exact for creates, PATCH add to members (with or without path), remove
// of members[value eq "id"] and remove by value list. A PATCH replace of
// the members and PUT cannot be told apart from the state before, which
// the forwarder does not read: they give no member events (their
// group.updated event carries the members after). When the upstream's
// answer lists the members, an id it does not list is not reported as
// added, nor one it lists as removed.
func memberChanges(kind writeKind, req, resp map[string]any) (added, removed []string) {
	state := map[string]bool{} // id -> added (true) or removed (false), last operation wins
	var order []string
	set := func(ids []string, add bool) {
		for _, id := range ids {
			if _, ok := state[id]; !ok {
				order = append(order, id)
			}
			state[id] = add
		}
	}
	switch kind {
	case kindCreate:
		if v, ok := resp["members"]; ok {
			set(memberIDs(v), true)
		} else {
			set(memberIDs(req["members"]), true)
		}
	case kindPatch:
		ops, _ := req["Operations"].([]any)
		for _, o := range ops {
			op, _ := o.(map[string]any)
			name, _ := op["op"].(string)
			name = strings.ToLower(name)
			path, _ := op["path"].(string)
			path = strings.TrimSpace(path)
			switch {
			case name == "add" && isMembersPath(path):
				set(memberIDs(op["value"]), true)
			case name == "add" && path == "":
				v, _ := op["value"].(map[string]any)
				for k, mv := range v {
					if isMembersPath(k) {
						set(memberIDs(mv), true)
					}
				}
			case name == "remove" && isMembersPath(path):
				set(memberIDs(op["value"]), false)
			case name == "remove":
				if m := memberFilterPath.FindStringSubmatch(path); m != nil {
					var id string
					if json.Unmarshal([]byte(m[1]), &id) == nil && id != "" {
						set([]string{id}, false)
					}
				}
			}
		}
	default:
		return nil, nil
	}
	var after map[string]bool
	if v, ok := resp["members"].([]any); ok {
		after = map[string]bool{}
		for _, id := range memberIDs(v) {
			after[id] = true
		}
	}
	for _, id := range order {
		switch add := state[id]; {
		case add && (after == nil || after[id]):
			added = append(added, id)
		case !add && (after == nil || !after[id]):
			removed = append(removed, id)
		}
	}
	return added, removed
}

// removeByValue rewrites Entra's remove of listed members,
// {"op":"remove","path":"members","value":[{"value":"id"}]}, which RFC
// 7644 §3.5.2.2 reads as "remove all members" (the value is ignored), into
// one remove of members[value eq "id"] per listed member, as the stored
// backend reads it (patch.CompatRemoveByValue). It returns nil when op is
// not of that form.
func (f *Forwarder) removeByValue(op map[string]any) []any {
	name, _ := op["op"].(string)
	path, _ := op["path"].(string)
	if !strings.EqualFold(name, "remove") || !isMembersPath(path) {
		return nil
	}
	ids := memberIDs(op["value"])
	if len(ids) == 0 {
		return nil
	}
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		q, _ := json.Marshal(id)
		out = append(out, map[string]any{"op": "remove", "path": "members[value eq " + string(q) + "]"})
	}
	f.compat(patch.CompatRemoveByValue)
	return out
}
