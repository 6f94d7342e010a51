// Package store keeps SCIM resources (Users and Groups) in Redis.
//
// The Store interface is the contract; Redis is its implementation and
// storetest its conformance suite, run on miniredis and on a real Redis.
// Filtering, sorting and paging live above the store (package scimapi),
// which uses Lookup for indexed equality filters and Scan for the rest.
//
// # Key layout
//
// A Redis store holds one directory's resources. Every key of it carries
// the directory's hash tag, so all of them live in one Redis Cluster slot
// and the Lua scripts may touch any of them atomically, while different
// directories spread over the cluster. The default directory's tag is
// {scim} (DefaultTag, the layout of the releases before directories, so an
// upgrade needs no migration); another directory's is {d:<id>}
// (NewRedisTagged). Below, P is the configured prefix (e.g. "scimgate:")
// and {scim} stands for the directory's tag.
//
//	P{scim}:r:<id>              hash  t (type), v (version), dv (attribute version),
//	                                  c (created), m (lastModified; absent: c),
//	                                  each unix ns or RFC 3339, role, ix, ix2, ix3
//	                                  (index entries), and doc (JSON attributes,
//	                                  compact or not: compactDoc) unless in d:<id>
//	                                  (DocumentKeys)
//	P{scim}:d:<id>              string "<dv> <JSON attributes>" (DocumentKeys):
//	                                  the document, out of the hash so that
//	                                  Redis keeps the hash as a listpack
//	P{scim}:all:<Type>          zset  every id of the type, score 0, in lexicographic
//	                                  order = creation order (ids are UUIDv7)
//	P{scim}:u:<Type>:<attr>     hash  unique index: normalised value -> id
//	                                  (User userName, lower-cased)
//	P{scim}:x:<Type>:<attr>     zset  non-unique index: "<value>\x00<id>", score 0
//	                                  (User and Group externalId; Group
//	                                  displayName, lower-cased; User
//	                                  emails.value, displayName and
//	                                  name.familyName, case-folded, each
//	                                  only when enabled: EnableIndexes)
//	P{scim}:ixready             hash  "<Type>:<attr>" -> 2 once Backfill indexed
//	                                  every resource written before the index;
//	                                  cleared by each write while it is off
//	P{scim}:u:<Type>:externalId hash  legacy: externalId was a unique index
//	                                  before; see index.legacy
//	P{scim}:m:<groupId>         hash  member id -> {"type","display"} JSON
//	P{scim}:of:<id>             set   ids of the groups that directly contain id
//	P{scim}:gname               hash  group id -> displayName (for User.groups)
//	P{scim}:deleted             zset  soft-deleted ids, scored by deletion time (unix ms)
//	P{scim}:deleted:<id>        hash  a soft-deleted resource, kept until purged
//	P{scim}:w:<token>           string the reply of an update or deletion, for
//	                                  120 s (writeGuard: a resend is answered
//	                                  with it, not applied again)
//	P{scim}:gone:<id>           string "1" for 120 s after id's deletion: a
//	                                  resent creation of id is not redone
//	                                  (createResent in scripts.go)
//	P{scim}:audit               stream audit events (package audit)
//	P{scim}:events              stream change events for the application
//
// Group members live outside the group document, so adding or removing
// members costs time proportional to the change, not to the group size.
package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimgate/scimgate/audit"
)

// Resource types.
const (
	TypeUser  = "User"
	TypeGroup = "Group"
)

// Resource is one stored SCIM resource.
type Resource struct {
	Type string
	ID   string
	// Attrs holds the client-settable attributes with canonical names;
	// never id, meta, members or groups.
	Attrs   map[string]any
	Version int64
	// AttrVersion counts changes of Attrs only (not of members); writes
	// that rewrite Attrs condition on it (Condition.AttrVersion).
	AttrVersion int64
	Created     time.Time
	Modified    time.Time
	// Members of a Group, when read with ReadOptions.Members.
	Members []Member
	// Groups directly containing the resource, when read with
	// ReadOptions.Groups (Display is the group's displayName).
	Groups []Member
	// Role is a User's stored effective role ("" = none); see SetRoles.
	Role string
	// Doc is the stored attributes JSON that Attrs was decoded from (""
	// when the store does not keep it); with ReadOptions.RawOnly, Attrs
	// is left nil until DecodeAttrs.
	Doc string
}

// RoleChange is one user whose effective role SetRoles changed.
type RoleChange struct {
	ID, Old, New string
}

// Member is one member of a group, or one group of a member.
type Member struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Display string `json:"display,omitempty"`
}

// MemberChange is a change to a group's members: with Replace the current
// members are dropped first; then Remove, RemoveExisting and Add apply.
type MemberChange struct {
	Replace bool
	Add     []Member
	Remove  []string
	// RemoveExisting are removed like Remove, but the change fails with
	// *NoTargetError when one is not a member (a filtered PATCH remove that
	// matches nothing, RFC 7644 §3.5.2.2).
	RemoveExisting []string
}

// Empty reports whether the change does nothing.
func (mc *MemberChange) Empty() bool {
	return mc == nil || (!mc.Replace && len(mc.Add) == 0 && len(mc.Remove) == 0 && len(mc.RemoveExisting) == 0)
}

// ReadOptions selects the derived data a read loads.
type ReadOptions struct {
	Members bool // a Group's members
	Groups  bool // the groups containing a resource
	RawOnly bool // fill Doc and leave Attrs nil (see Resource.DecodeAttrs)
	// Fresh reads from Redis, never from a read cache (Redis.ReadCache):
	// for a caller that found a cached copy stale (see Redis.LookupGet).
	Fresh bool
}

// Condition is what an Update requires of the stored resource; zero
// fields are not checked.
type Condition struct {
	// Version is the whole resource's version (an If-Match ETag).
	Version int64
	// AttrVersion is the attributes' version: a read-modify-write of the
	// attributes conditions on it, so it conflicts only with other
	// attribute writes, never with member changes.
	AttrVersion int64
}

// Journal is what a write records besides the change itself, in the same
// atomic step: one audit event, and change events for the application. It
// is recorded only when the write changes something.
type Journal struct {
	// Audit is the audit event. The store fills in Action (DocAction when
	// attributes changed or for creates and deletes, else MemberAction),
	// Target.ID, and appends "members" to Changed when members changed.
	Audit        audit.Event
	DocAction    string
	MemberAction string
	// Event is the change-event type of an attribute change, creation or
	// deletion (e.g. "user.updated"); member changes are published as
	// group.member_added / group.member_removed.
	Event string
	// MaxLen is the approximate length both streams are trimmed to.
	MaxLen int64
	// AuditID is set by the store to the audit entry's stream id when the
	// write recorded one.
	AuditID string
}

// EventsKey returns the change-event stream key for prefix.
func EventsKey(prefix string) string { return TaggedEventsKey(prefix, DefaultTag) }

// DefaultTag is the hash tag of the default directory's keys (today's
// layout, kept so an existing installation needs no migration).
const DefaultTag = "scim"

// TaggedEventsKey returns the change-event stream of the directory whose
// keys carry the hash tag {tag}.
func TaggedEventsKey(prefix, tag string) string { return prefix + "{" + tag + "}:events" }

// Store keeps SCIM resources. All methods are safe for concurrent use by
// many processes sharing one Redis. Every method that writes is atomic:
// either all of its keys change or none do.
type Store interface {
	// Writes take an optional *Journal (nil records nothing).
	//
	// Create stores a new resource with a server-assigned id. It fails
	// with *UniquenessError when a unique attribute is taken and with
	// *InvalidMemberError when a member does not exist. The returned
	// resource's Attrs may be attrs itself (not a copy): the caller must
	// not change attrs afterwards.
	Create(ctx context.Context, typ string, attrs map[string]any, members []Member, j *Journal) (*Resource, error)
	// Get returns one resource or ErrNotFound.
	Get(ctx context.Context, typ, id string, ro ReadOptions) (*Resource, error)
	// GetMany returns the resources that exist among ids, in ids' order.
	GetMany(ctx context.Context, typ string, ids []string, ro ReadOptions) ([]*Resource, error)
	// Update replaces the attributes (unless attrs is nil) and applies mc
	// (unless nil), only if cond holds (a mismatch is ErrVersionMismatch). The version and
	// lastModified change only when something changed; changed says so.
	// The returned resource does not carry a group's members.
	Update(ctx context.Context, typ, id string, cond Condition, attrs map[string]any, mc *MemberChange, j *Journal) (res *Resource, changed bool, err error)
	// Delete removes the resource, its index entries and its membership in
	// every group (and, for a group, its members' back-references), only
	// if version matches (0 skips the check).
	Delete(ctx context.Context, typ, id string, version int64, j *Journal) error
	// Lookup returns the ids whose indexed attribute equals value (compared
	// as the index normalises it). attr must be one of Indexed(typ).
	Lookup(ctx context.Context, typ, attr, value string) ([]string, error)
	// Indexed returns the attributes of typ that Lookup serves, including
	// id: the fixed indexes and the optional ones enabled in this store.
	// The caller must not change the slice.
	Indexed(typ string) []string
	// Scan visits every resource of typ in id order, after the id after
	// ("" = from the start), in batches of at most batch, until fn returns
	// false or an error.
	Scan(ctx context.Context, typ, after string, batch int, ro ReadOptions, fn func([]*Resource) (bool, error)) error
	// IDs returns up to limit ids of typ in id order, after the id after
	// ("" = from the start), skipping offset of them first.
	IDs(ctx context.Context, typ, after string, offset, limit int) ([]string, error)
	// SetRoles stores the effective role of each user (id -> role) and
	// publishes user.role_changed, naming auditID, for each whose role
	// changed, atomically. Unknown ids are skipped.
	SetRoles(ctx context.Context, roles map[string]string, auditID string, maxLen int64) ([]RoleChange, error)
	// PurgeDeleted removes for good the soft-deleted resources deleted
	// before before, returning how many (0 when soft delete is off).
	PurgeDeleted(ctx context.Context, before time.Time) (int, error)
	// Count returns the number of resources of typ.
	Count(ctx context.Context, typ string) (int64, error)
}

// Errors shared by every Store implementation.
var (
	ErrNotFound        = errors.New("store: resource not found")
	ErrVersionMismatch = errors.New("store: version mismatch")
	// ErrCreatedThenDeleted answers a creation that was applied and its
	// resource deleted again, by another request, before the reply reached
	// the caller (a lost reply, resent by the client library).
	ErrCreatedThenDeleted = errors.New("store: the creation was applied, then the resource deleted before its reply arrived")
)

// UniquenessError reports a taken unique attribute value.
type UniquenessError struct{ Attr string }

func (e *UniquenessError) Error() string {
	return fmt.Sprintf("store: %s is already taken", e.Attr)
}

// InvalidMemberError reports a group member that does not exist.
type InvalidMemberError struct{ ID string }

func (e *InvalidMemberError) Error() string {
	return fmt.Sprintf("store: member %q does not exist", e.ID)
}

// NoTargetError reports a member to remove that is not in the group.
type NoTargetError struct{ ID string }

func (e *NoTargetError) Error() string {
	return fmt.Sprintf("store: %q is not a member", e.ID)
}

// index describes one attribute index of a resource type.
type index struct {
	attr   string
	unique bool
	fold   bool // lower-case the value (caseExact=false attributes)
	// legacy marks an index of an older key layout that is no longer
	// written: externalId was a unique hash (u:<Type>:externalId) and is
	// now a non-unique zset (x:<Type>:externalId), because RFC 7643 §3.1
	// gives it uniqueness "none" and IdPs reuse values (Entra's default
	// mailNickname mapping). Resources written before the change keep
	// their entry there until their attributes are next written or they
	// are deleted (their "ix" field names it, and the scripts drop it
	// then); Lookup consults both, so no migration step is needed.
	legacy bool
	// added marks an index appended after the first key layout: its entries
	// are recorded in the resource's "ix2" field, which earlier versions
	// never read, so during a rolling upgrade an old gateway rewriting or
	// deleting the resource does not meet a KEYS position it lacks (it
	// leaves the entry behind instead: a stale candidate that Lookup's
	// callers filter out, dropped at the resource's next new-version write).
	added bool
	// backfill marks an index added after resources may already exist. Its
	// entries are recorded in the resource's "ix3" field, which versions
	// before it never read (their KEYS lack its position, as with "ix2").
	// Resources written before it have no entries, so Lookup serves it only
	// once Backfill has indexed them all and set its ready marker (see
	// indexes.go); until then it answers ErrIndexBuilding and callers scan.
	// The backfilled indexes are also the optional ones: a store maintains
	// and serves one only when enabled (Redis.EnableIndexes); while it is
	// off, every write of attributes clears its ready marker.
	backfill bool
}

// indexesOf lists the indexed attributes of a type besides id (a
// sub-attribute as "attr.sub"; of a multi-valued attribute, one entry per
// value). The
// position of an index in this list is its key's position in the write
// and delete scripts' KEYS (plus 3), which the "ix" field of every stored
// resource records: existing positions must never change, so new indexes
// are appended and retired ones become legacy.
func indexesOf(typ string) []index {
	switch typ {
	case TypeUser:
		return []index{{attr: "userName", unique: true, fold: true},
			{attr: "externalId", unique: true, legacy: true}, {attr: "externalId", added: true},
			{attr: "emails.value", fold: true, backfill: true},
			{attr: "displayName", fold: true, backfill: true},
			{attr: "name.familyName", fold: true, backfill: true}}
	case TypeGroup:
		return []index{{attr: "externalId", unique: true, legacy: true}, {attr: "displayName", fold: true},
			{attr: "externalId", added: true}}
	}
	return nil
}

// OptionalIndexes lists the User attributes whose indexes a store keeps
// only when enabled (Redis.EnableIndexes).
func OptionalIndexes() []string {
	var out []string
	for _, ix := range indexesOf(TypeUser) {
		if ix.backfill {
			out = append(out, ix.attr)
		}
	}
	return out
}

// CheckOptionalIndexes reports the first of attrs that is not one of
// OptionalIndexes, or one named twice.
func CheckOptionalIndexes(attrs []string) error {
	valid := OptionalIndexes()
	for i, a := range attrs {
		if !slices.Contains(valid, a) {
			return fmt.Errorf("%q is not an optional index (valid: %s)", a, strings.Join(valid, ", "))
		}
		if slices.Contains(attrs[:i], a) {
			return fmt.Errorf("%q is listed twice", a)
		}
	}
	return nil
}

// Unique returns the attributes of typ whose values the store keeps unique
// (besides id), as normalised: userName case-insensitively.
func Unique(typ string) []string {
	var out []string
	for _, ix := range indexesOf(typ) {
		if ix.unique && !ix.legacy {
			out = append(out, ix.attr)
		}
	}
	return out
}
