package scimapi

import (
	"reflect"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/server"
)

// Change-event types published on the events stream.
const (
	EventUserCreated       = "user.created"
	EventUserUpdated       = "user.updated"
	EventUserDeactivated   = "user.deactivated"
	EventUserReactivated   = "user.reactivated"
	EventUserDeleted       = "user.deleted"
	EventGroupCreated      = "group.created"
	EventGroupUpdated      = "group.updated"
	EventGroupDeleted      = "group.deleted"
	EventGroupMemberAdded  = "group.member_added"
	EventGroupMemberRemove = "group.member_removed"
)

type writeKind int

const (
	kindCreate writeKind = iota
	kindUpdate
	kindDelete
)

// journal builds the audit and change-event records of one SCIM write.
// before is the stored state for updates (nil otherwise), after the new
// attributes (nil for deletes); changed names the changed attributes.
func (h *Handler) journal(c *gin.Context, rt *schema.ResourceType, kind writeKind, before, after map[string]any, changed []string) *store.Journal {
	ev := audit.Event{
		Actor:     actorOf(c),
		Target:    audit.Target{Type: rt.Name, Name: nameOf(rt, after, before)},
		RequestID: server.RequestIDFrom(c),
		SourceIP:  c.ClientIP(),
		Changed:   changed,
	}
	j := &store.Journal{Audit: ev, MaxLen: h.opts.AuditMaxLen}
	user := rt.Name == store.TypeUser
	switch {
	case kind == kindCreate && user:
		j.DocAction, j.Event = audit.UserProvisioned, EventUserCreated
	case kind == kindCreate:
		j.DocAction, j.Event = audit.GroupCreated, EventGroupCreated
	case kind == kindDelete && user:
		j.DocAction, j.Event = audit.UserDeleted, EventUserDeleted
	case kind == kindDelete:
		j.DocAction, j.Event = audit.GroupDeleted, EventGroupDeleted
	case user:
		j.DocAction, j.Event = audit.UserUpdated, EventUserUpdated
		was, is := isActive(before), isActive(after)
		if was && !is {
			j.DocAction, j.Event = audit.UserDeprovisioned, EventUserDeactivated
		} else if !was && is {
			j.DocAction, j.Event = audit.UserReactivated, EventUserReactivated
		}
	default:
		j.DocAction, j.Event = audit.GroupSynced, EventGroupUpdated
		j.MemberAction = audit.GroupMembershipChanged
	}
	return j
}

func actorOf(c *gin.Context) audit.Actor {
	p, ok := auth.FromContext(c.Request.Context())
	if !ok {
		return audit.Actor{}
	}
	return audit.Actor{ClientID: p.ClientID, AuthMethod: string(p.Method), CredentialID: p.CredentialID}
}

func nameOf(rt *schema.ResourceType, docs ...map[string]any) string {
	attr := "userName"
	if rt.Name == store.TypeGroup {
		attr = "displayName"
	}
	for _, d := range docs {
		if s, ok := d[attr].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// isActive reads the active attribute; an absent value counts as active.
func isActive(doc map[string]any) bool {
	b, ok := doc["active"].(bool)
	return !ok || b
}

// changedAttrs lists the top-level attributes that differ, sorted.
func changedAttrs(before, after map[string]any) []string {
	var out []string
	for k, v := range after {
		if k != "schemas" && !reflect.DeepEqual(before[k], v) {
			out = append(out, k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok && k != "schemas" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
