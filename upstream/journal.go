package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/server"
)

// Record is what one accepted upstream write leaves in scimgate: an audit
// event and a change event of the same shape as the stored backend's.
type Record struct {
	Audit audit.Event
	// Event is the change-event type (e.g. "user.created"); ResourceType
	// and ID name the resource; Data is the resource after the write
	// (nil for deletes).
	Event        string
	ResourceType string
	ID           string
	Data         []byte
	// MembersAdded and MembersRemoved are the member ids a group write
	// added and removed, each published as group.member_added or
	// group.member_removed (as the stored backend does). Event may then be
	// "" when nothing but the members changed.
	MembersAdded   []string
	MembersRemoved []string
}

// Recorder appends Records.
type Recorder interface {
	Record(ctx context.Context, r Record) error
}

// RedisRecorder appends the audit event and the change event in one
// script, so both exist or neither (they cannot be atomic with the
// upstream's write, which has already happened).
type RedisRecorder struct {
	c      redis.UniversalClient
	prefix string
	tag    string
	maxLen int64
}

// NewRedisRecorder returns a RedisRecorder on the audit and event streams
// under prefix, trimmed to about maxLen entries (0 = one million).
func NewRedisRecorder(c redis.UniversalClient, prefix string, maxLen int64) *RedisRecorder {
	if maxLen <= 0 {
		maxLen = 1_000_000
	}
	return &RedisRecorder{c: c, prefix: prefix, tag: store.DefaultTag, maxLen: maxLen}
}

// ForTag returns the recorder on the streams of the directory whose hash
// tag (without braces) is tag (directory.Tag).
func (r *RedisRecorder) ForTag(tag string) *RedisRecorder {
	t := *r
	t.tag = tag
	return &t
}

// recordScript: KEYS[1] audit stream, KEYS[2] event stream (same slot);
// ARGV maxlen, event type ("" = none), resource type, id,
// time, data ("" = none), member changes ({"a":[ids],"r":[ids]} or ""),
// then the audit event's stream entry fields (audit.AppendFields).
// Returns the audit entry id.
var recordScript = redis.NewScript(`
local aid = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 8))
if ARGV[2] ~= '' then
  local args = {'XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'type', ARGV[2], 'resource_type', ARGV[3], 'id', ARGV[4],
    'audit_id', aid, 'time', ARGV[5]}
  if ARGV[6] ~= '' then
    args[#args + 1] = 'data'
    args[#args + 1] = ARGV[6]
  end
  redis.call(unpack(args))
end
if ARGV[7] ~= '' then
  local m = cjson.decode(ARGV[7])
  for _, pair in ipairs({{'a', 'group.member_added'}, {'r', 'group.member_removed'}}) do
    for _, mid in ipairs(m[pair[1]]) do
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], '*', 'type', pair[2], 'resource_type', ARGV[3], 'id', ARGV[4],
        'audit_id', aid, 'time', ARGV[5], 'member', mid)
    end
  end
end
return aid
`)

// Record appends r.
func (r *RedisRecorder) Record(ctx context.Context, rec Record) error {
	if rec.Audit.Time.IsZero() {
		rec.Audit.Time = time.Now()
	}
	if rec.Audit.Outcome == "" {
		rec.Audit.Outcome = audit.OutcomeSuccess
	}
	members := ""
	if len(rec.MembersAdded)+len(rec.MembersRemoved) > 0 {
		raw, err := json.Marshal(map[string][]string{"a": nonNil(rec.MembersAdded), "r": nonNil(rec.MembersRemoved)})
		if err != nil {
			return fmt.Errorf("upstream: encode member changes: %w", err)
		}
		members = string(raw)
	}
	keys := []string{audit.TaggedKey(r.prefix, r.tag), store.TaggedEventsKey(r.prefix, r.tag)}
	args := audit.AppendFields([]any{r.maxLen, rec.Event, rec.ResourceType, rec.ID,
		rec.Audit.Time.UTC().Format(time.RFC3339Nano), string(rec.Data), members}, rec.Audit)
	if err := recordScript.Run(ctx, r.c, keys, args...).Err(); err != nil {
		return fmt.Errorf("upstream: record write: %w", err)
	}
	return nil
}

// record builds and appends the Record of an accepted write from the
// request and the upstream's answer. A failure to record is logged: the
// upstream has made the change, so the caller still gets its answer.
func (f *Forwarder) record(c *gin.Context, rt string, kind writeKind, id string, req, resp map[string]any) {
	if s, ok := resp["id"].(string); ok && id == "" {
		id = s
	}
	if id == "" || rt == "" {
		return
	}
	rec := Record{ResourceType: rt, ID: id}
	rec.Audit = audit.Event{
		Actor:     actorOf(c),
		Target:    audit.Target{Type: rt, ID: id, Name: nameOf(rt, resp, req)},
		RequestID: server.RequestIDFrom(c),
		SourceIP:  c.ClientIP(),
		Changed:   changedAttrs(kind, req),
	}
	rec.Audit.Action, rec.Event = actionOf(rt, kind, req)
	if rt == store.TypeGroup {
		rec.MembersAdded, rec.MembersRemoved = memberChanges(kind, req, resp)
		if rec.Audit.Action == audit.GroupMembershipChanged && len(rec.MembersAdded)+len(rec.MembersRemoved) > 0 {
			// Only members changed: the stored backend publishes the
			// member events alone.
			rec.Event = ""
		}
	}
	if kind != kindDelete && resp != nil {
		rec.Data, _ = encodeJSON(resp)
	}
	if err := f.opts.Recorder.Record(c.Request.Context(), rec); err != nil {
		f.opts.Log.Error("forwarded write accepted upstream but not recorded", "resource_type", rt, "id", id,
			"action", rec.Audit.Action, "request_id", rec.Audit.RequestID, "err", err.Error())
	}
}

func actorOf(c *gin.Context) audit.Actor {
	p, ok := auth.FromContext(c.Request.Context())
	if !ok {
		return audit.Actor{}
	}
	return audit.Actor{ClientID: p.ClientID, AuthMethod: string(p.Method), CredentialID: p.CredentialID}
}

func nameOf(rt string, docs ...map[string]any) string {
	attr := "userName"
	if rt == store.TypeGroup {
		attr = "displayName"
	}
	for _, d := range docs {
		if s, ok := d[attr].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// actionOf maps a write onto the stored backend's audit action and event
// type. Without the state before the write, a user update counts as a
// deactivation or reactivation only when the request itself set active.
func actionOf(rt string, kind writeKind, req map[string]any) (action, event string) {
	user := rt == store.TypeUser
	switch {
	case kind == kindCreate && user:
		return audit.UserProvisioned, scimapi.EventUserCreated
	case kind == kindCreate:
		return audit.GroupCreated, scimapi.EventGroupCreated
	case kind == kindDelete && user:
		return audit.UserDeleted, scimapi.EventUserDeleted
	case kind == kindDelete:
		return audit.GroupDeleted, scimapi.EventGroupDeleted
	case user:
		if active, set := patchedActive(req); set && !active {
			return audit.UserDeprovisioned, scimapi.EventUserDeactivated
		} else if set && active {
			return audit.UserReactivated, scimapi.EventUserReactivated
		}
		return audit.UserUpdated, scimapi.EventUserUpdated
	}
	if slices.Equal(changedAttrs(kind, req), []string{"members"}) {
		return audit.GroupMembershipChanged, scimapi.EventGroupUpdated
	}
	return audit.GroupSynced, scimapi.EventGroupUpdated
}

// patchedActive reports the active value a PATCH request sets, if any.
func patchedActive(req map[string]any) (active, set bool) {
	ops, _ := req["Operations"].([]any)
	for _, o := range ops {
		op, _ := o.(map[string]any)
		path, _ := op["path"].(string)
		if name, _ := op["op"].(string); strings.EqualFold(name, "remove") {
			continue
		}
		if strings.EqualFold(path, "active") {
			active, set = op["value"].(bool)
		} else if v, ok := op["value"].(map[string]any); ok && path == "" {
			if b, ok := v["active"].(bool); ok {
				active, set = b, true
			}
		}
	}
	return active, set
}

// changedAttrs names the top-level attributes a write sets (names only,
// never values), sorted.
func changedAttrs(kind writeKind, req map[string]any) []string {
	var out []string
	add := func(name string) {
		for _, skip := range append([]string{"", "schemas", "id", "meta"}, out...) {
			if strings.EqualFold(name, skip) {
				return
			}
		}
		out = append(out, name)
	}
	switch kind {
	case kindCreate, kindReplace:
		for k := range req {
			add(k)
		}
	case kindPatch:
		ops, _ := req["Operations"].([]any)
		for _, o := range ops {
			op, _ := o.(map[string]any)
			if path, _ := op["path"].(string); path != "" {
				add(topAttr(path))
			} else if v, ok := op["value"].(map[string]any); ok {
				for k := range v {
					add(k)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// topAttr is the top-level attribute a PATCH path names
// ("emails[type eq \"work\"].value" → "emails"; extension URNs stay whole).
func topAttr(path string) string {
	if strings.HasPrefix(strings.ToLower(path), "urn:") {
		if i := strings.LastIndex(path, ":"); i >= 0 {
			return path[:i]
		}
		return path
	}
	if i := strings.IndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return path
}

// nonNil is s, or an empty slice (encoded as [], which the script iterates).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
