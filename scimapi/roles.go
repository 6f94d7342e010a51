package scimapi

import (
	"context"
	"reflect"
	"slices"

	"github.com/scimgate/scimgate/roles"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/store"
)

// roleBatch bounds how many users one role recomputation reads at once.
const roleBatch = 500

// rolesEnabled reports whether group → role mapping is configured.
func (h *Handler) rolesEnabled() bool { return h.opts.Roles.Enabled() }

// groupMapped reports whether a group's attributes make it a mapped group.
func (h *Handler) groupMapped(attrs map[string]any) bool {
	if !h.rolesEnabled() || attrs == nil {
		return false
	}
	return h.opts.Roles.Maps(groupOf(attrs))
}

func groupOf(attrs map[string]any) roles.Group {
	name, _ := attrs["displayName"].(string)
	ext, _ := attrs["externalId"].(string)
	return roles.Group{DisplayName: name, ExternalID: ext}
}

// syncRoles recomputes the effective role of the given users from their
// current groups and roles attribute and stores the changes, which the
// store publishes as user.role_changed naming auditID.
func (h *Handler) syncRoles(ctx context.Context, userIDs []string, auditID string) error {
	if !h.rolesEnabled() || len(userIDs) == 0 {
		return nil
	}
	userIDs = slices.Compact(slices.Sorted(slices.Values(userIDs)))
	for start := 0; start < len(userIDs); start += roleBatch {
		users, err := h.store(ctx).GetMany(ctx, store.TypeUser, userIDs[start:min(start+roleBatch, len(userIDs))], store.ReadOptions{Groups: true})
		if err != nil {
			return err
		}
		var gids []string
		for _, u := range users {
			for _, g := range u.Groups {
				gids = append(gids, g.Value)
			}
		}
		groups, err := h.store(ctx).GetMany(ctx, store.TypeGroup, slices.Compact(slices.Sorted(slices.Values(gids))), store.ReadOptions{})
		if err != nil {
			return err
		}
		byID := make(map[string]roles.Group, len(groups))
		for _, g := range groups {
			byID[g.ID] = groupOf(g.Attrs)
		}
		want := make(map[string]string, len(users))
		for _, u := range users {
			var gs []roles.Group
			for _, g := range u.Groups {
				gs = append(gs, byID[g.Value])
			}
			want[u.ID] = h.opts.Roles.Effective(gs, u.Attrs["roles"])
		}
		if _, err := h.store(ctx).SetRoles(ctx, want, auditID, h.opts.AuditMaxLen); err != nil {
			return err
		}
	}
	return nil
}

// memberIDs lists the ids a member change and a member list touch.
func memberIDs(mc *store.MemberChange, lists ...[]store.Member) []string {
	var ids []string
	if mc != nil {
		for _, m := range mc.Add {
			ids = append(ids, m.Value)
		}
		ids = append(ids, mc.Remove...)
		ids = append(ids, mc.RemoveExisting...)
	}
	for _, l := range lists {
		for _, m := range l {
			ids = append(ids, m.Value)
		}
	}
	return ids
}

// renderRole adds the effective role to a rendered user.
func renderRole(doc map[string]any, r *store.Resource) {
	if r.Type != store.TypeUser || r.Role == "" {
		return
	}
	doc[schema.RoleExtensionURN] = map[string]any{"effectiveRole": r.Role}
	if s, ok := doc["schemas"].([]any); ok {
		doc["schemas"] = append(slices.Clone(s), schema.RoleExtensionURN)
	}
}

// rolesAfterWrite recomputes the roles a committed write may have changed:
// a user's own (its roles attribute), or the members of a mapped group
// (members added or removed, or all of them when the group's displayName or
// externalId changed what it maps to). prior lists members that a Replace
// or delete removed. Failures are logged: the write itself stands, and the
// next write touching the user recomputes its role.
func (h *Handler) rolesAfterWrite(ctx context.Context, r *store.Resource, before, after map[string]any, mc *store.MemberChange, prior []store.Member, auditID string) {
	if !h.rolesEnabled() {
		return
	}
	var ids []string
	if r.Type == store.TypeUser {
		if before == nil || !reflectEqual(before["roles"], after["roles"]) {
			ids = []string{r.ID}
		}
	} else {
		was, is := h.groupMapped(before), h.groupMapped(after)
		switch {
		case (was || is) && groupOf(before) != groupOf(after):
			ids = memberIDs(mc, prior, r.Members)
			if r.Members == nil && after != nil {
				if full, err := h.store(ctx).Get(ctx, store.TypeGroup, r.ID, store.ReadOptions{Members: true}); err == nil {
					ids = append(ids, memberIDs(nil, full.Members)...)
				}
			}
		case is:
			ids = memberIDs(mc, prior)
		}
	}
	if err := h.syncRoles(ctx, ids, auditID); err != nil {
		h.opts.Log.ErrorContext(ctx, "role recomputation failed", "err", err.Error(), "resource", r.ID)
	}
}

func reflectEqual(a, b any) bool { return reflect.DeepEqual(a, b) }

// RoleChange is one user whose role a mapping would change.
type RoleChange struct {
	ID       string `json:"id"`
	UserName string `json:"userName"`
	Current  string `json:"current"`
	New      string `json:"new"`
}

// PreviewRoles computes, without writing anything, the role every stored
// user would get under m and reports each one that differs from its stored
// role (a dry run of a mapping change). It reads the directory in batches.
func PreviewRoles(ctx context.Context, st store.Store, m *roles.Mapper, fn func(RoleChange)) error {
	groupCache := map[string]roles.Group{}
	return st.Scan(ctx, store.TypeUser, "", roleBatch, store.ReadOptions{Groups: true}, func(users []*store.Resource) (bool, error) {
		var missing []string
		for _, u := range users {
			for _, g := range u.Groups {
				if _, ok := groupCache[g.Value]; !ok {
					missing = append(missing, g.Value)
				}
			}
		}
		groups, err := st.GetMany(ctx, store.TypeGroup, slices.Compact(slices.Sorted(slices.Values(missing))), store.ReadOptions{})
		if err != nil {
			return false, err
		}
		for _, g := range groups {
			groupCache[g.ID] = groupOf(g.Attrs)
		}
		for _, u := range users {
			var gs []roles.Group
			for _, g := range u.Groups {
				gs = append(gs, groupCache[g.Value])
			}
			newRole := ""
			if m.Enabled() {
				newRole = m.Effective(gs, u.Attrs["roles"])
			}
			if newRole != u.Role {
				name, _ := u.Attrs["userName"].(string)
				fn(RoleChange{ID: u.ID, UserName: name, Current: u.Role, New: newRole})
			}
		}
		return true, ctx.Err()
	})
}
