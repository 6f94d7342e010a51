package scimapi

import (
	"errors"
	"maps"
	"net/http"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/scimapi/patch"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
)

// patchRequest is the PatchOp message (RFC 7644 §3.5.2).
type patchRequest struct {
	Schemas    []string          `json:"schemas"`
	Operations []patch.Operation `json:"Operations"`
}

func (h *Handler) readPatch(c *gin.Context) ([]patch.Operation, error) {
	var pr patchRequest
	if err := h.readBody(c, &pr); err != nil {
		return nil, err
	}
	hasURN := false
	for _, s := range pr.Schemas {
		hasURN = hasURN || strings.EqualFold(s, PatchOpURN)
	}
	if !hasURN && h.opts.Strict {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "schemas must be [%q]", PatchOpURN)
	}
	if len(pr.Operations) == 0 {
		return nil, scimerr.BadRequest(scimerr.InvalidSyntax, "Operations must hold at least one operation")
	}
	if err := h.opts.Limits.Patch.Check(pr.Operations); err != nil {
		return nil, err
	}
	return pr.Operations, nil
}

func (h *Handler) patchOpts() patch.Options {
	return patch.Options{Strict: h.opts.Strict, OnCompat: h.opts.OnCompat, Limits: h.opts.Limits.Patch}
}

// patch is PATCH (RFC 7644 §3.5.2). Users are patched as whole documents
// with optimistic concurrency. Groups split their operations: the common
// member operations become a member delta applied in time proportional to
// the change; the rest patch the group document without its members.
func (h *Handler) patch(c *gin.Context, req *request, rt *schema.ResourceType) {
	ops, err := h.readPatch(c)
	if err != nil {
		writeError(c, h.opts.Log, err)
		return
	}
	ctx := c.Request.Context()
	var delta *store.MemberChange
	rest := ops
	if rt.Name == store.TypeGroup {
		if delta, rest, err = h.memberDelta(ops); err != nil {
			writeError(c, h.opts.Log, err)
			return
		}
	}
	// A group PATCH whose member operations are not of the simple forms
	// loads the members and patches the whole document.
	full := rt.Name == store.TypeGroup && delta == nil
	for attempt := 0; ; attempt++ {
		cur, version, err := h.current(c, rt, store.ReadOptions{Members: full})
		if err != nil {
			writeError(c, h.opts.Log, err)
			return
		}
		var attrs map[string]any
		var touched []string
		mc := delta
		if len(rest) > 0 {
			res, err := patch.Apply(rt, render(rt, cur, req.base), rest, h.patchOpts())
			if err != nil {
				writeError(c, h.opts.Log, err)
				return
			}
			if res.Changed {
				touched = res.Touched
				var members []store.Member
				if attrs, members, err = splitInput(rt, res.Doc); err != nil {
					writeError(c, h.opts.Log, err)
					return
				}
				if full {
					mc = memberDiff(cur.Members, members)
				}
			}
		}
		// A rewrite of the attributes must not lose a concurrent one. In
		// delta mode it conditions on the attribute version only, so it
		// does not conflict with concurrent member changes; a whole-document
		// patch computed its member diff from this read, so it conditions
		// on everything.
		cond := store.Condition{Version: version}
		if version == 0 && attrs != nil {
			if full {
				cond.Version = cur.Version
			} else {
				cond.AttrVersion = cur.AttrVersion
			}
		}
		r := cur
		if attrs != nil || !mc.Empty() {
			var prior []store.Member
			if mc != nil && mc.Replace && h.groupMapped(cur.Attrs) {
				if full && cur.Members != nil {
					prior = cur.Members
				} else if withMembers, err := h.store(ctx).Get(ctx, rt.Name, cur.ID, store.ReadOptions{Members: true}); err == nil {
					prior = withMembers.Members
				}
			}
			j := h.journal(c, rt, kindUpdate, cur.Attrs, attrsOr(attrs, cur.Attrs), touched)
			r, _, err = h.store(ctx).Update(ctx, rt.Name, cur.ID, cond, attrs, mc, j)
			if errors.Is(err, store.ErrVersionMismatch) && version == 0 && attempt < maxWriteAttempts {
				backoff(ctx, attempt)
				continue
			}
			if err != nil {
				writeError(c, h.opts.Log, err)
				return
			}
			h.rolesAfterWrite(ctx, r, cur.Attrs, attrsOr(attrs, cur.Attrs), mc, prior, j.AuditID)
			if r.Type == store.TypeUser && h.rolesEnabled() {
				if fresh, err := h.store(ctx).Get(ctx, rt.Name, r.ID, store.ReadOptions{Groups: true}); err == nil {
					r = fresh
				}
			}
		}
		p := projectionOf(c)
		if rt.Name == store.TypeGroup && len(p.attributes) == 0 && len(p.excluded) == 0 {
			// RFC 7644 §3.5.2: 204 is allowed; a group's members may be
			// huge, so only an explicit attributes request gets a body.
			c.Header("ETag", etag(r.Version))
			c.Status(http.StatusNoContent)
			return
		}
		if rt.Name == store.TypeGroup && p.wants(rt, "members") && r.Members == nil {
			if r, err = h.store(ctx).Get(ctx, rt.Name, cur.ID, store.ReadOptions{Members: true}); err != nil {
				writeError(c, h.opts.Log, err)
				return
			}
		}
		h.respondResource(c, req, rt, r, http.StatusOK, p)
		return
	}
}

// attrsOr returns attrs, or fallback when the attributes did not change.
func attrsOr(attrs, fallback map[string]any) map[string]any {
	if attrs != nil {
		return attrs
	}
	return fallback
}

var (
	membersPath = regexp.MustCompile(`^(?i:(?:urn:ietf:params:scim:schemas:core:2\.0:group:)?members)$`)
	memberByID  = regexp.MustCompile(`^(?i:(?:urn:ietf:params:scim:schemas:core:2\.0:group:)?members\s*\[\s*value\s+eq\s+)"((?:[^"\\]|\\.)*)"\s*\]$`)
)

// memberDelta collects the member operations of the simple forms into one
// MemberChange and returns the other operations. It returns a nil change
// when some member operation needs the whole document (e.g. a filter on
// display); then every operation goes through the generic engine.
func (h *Handler) memberDelta(ops []patch.Operation) (*store.MemberChange, []patch.Operation, error) {
	mc := &store.MemberChange{}
	adds := map[string]store.Member{}
	var addOrder []string
	removes := map[string]bool{} // id -> must exist (filtered remove)
	var rest []patch.Operation
	for _, op := range ops {
		name := strings.ToLower(op.Op)
		if name != op.Op {
			if h.opts.Strict {
				// Leave it to the engine, which refuses it with invalidSyntax.
				return nil, ops, nil
			}
		}
		path := strings.TrimSpace(op.Path)
		switch {
		case membersPath.MatchString(path) && (name == "add" || name == "replace"):
			vals, ok := op.Value.([]any)
			if !ok {
				return nil, ops, nil
			}
			list, err := membersOf(vals)
			if err != nil {
				return nil, nil, err
			}
			if name == "replace" {
				mc.Replace, adds, addOrder, removes = true, map[string]store.Member{}, nil, map[string]bool{}
			}
			for _, m := range list {
				if _, dup := adds[m.Value]; !dup {
					addOrder = append(addOrder, m.Value)
				}
				adds[m.Value] = m
				delete(removes, m.Value)
			}
		case membersPath.MatchString(path) && name == "remove":
			vals, hasList := op.Value.([]any)
			if !hasList || h.opts.Strict {
				// RFC 7644 §3.5.2.2: remove without a filter removes all.
				mc.Replace, adds, addOrder, removes = true, map[string]store.Member{}, nil, map[string]bool{}
				continue
			}
			// Entra: remove only the listed members, never the whole group.
			h.compat(patch.CompatRemoveByValue)
			list, err := membersOf(vals)
			if err != nil {
				return nil, nil, err
			}
			for _, m := range list {
				delete(adds, m.Value)
				if _, ok := removes[m.Value]; !ok {
					removes[m.Value] = false
				}
			}
		case name == "remove" && memberByID.MatchString(path):
			id := memberByID.FindStringSubmatch(path)[1]
			id = strings.ReplaceAll(strings.ReplaceAll(id, `\"`, `"`), `\\`, `\`)
			if _, added := adds[id]; added {
				delete(adds, id)
				continue
			}
			if mc.Replace {
				continue // nothing from before the replace is left to remove
			}
			removes[id] = true
		case strings.Contains(strings.ToLower(path), "members") || pathlessTouchesMembers(path, op.Value):
			return nil, ops, nil
		default:
			rest = append(rest, op)
			continue
		}
		if name != op.Op {
			h.compat(patch.CompatOpCase)
		}
	}
	for _, id := range addOrder {
		if m, ok := adds[id]; ok {
			mc.Add = append(mc.Add, m)
		}
	}
	for id, mustExist := range removes {
		if mustExist {
			mc.RemoveExisting = append(mc.RemoveExisting, id)
		} else {
			mc.Remove = append(mc.Remove, id)
		}
	}
	return mc, rest, nil
}

// pathlessTouchesMembers reports a path-less operation whose value names
// members (e.g. {"op":"add","value":{"members":[…]}}).
func pathlessTouchesMembers(path string, v any) bool {
	if path != "" {
		return false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k := range maps.Keys(m) {
		if strings.Contains(strings.ToLower(k), "members") {
			return true
		}
	}
	return false
}

func (h *Handler) compat(rule string) {
	if h.opts.OnCompat != nil {
		h.opts.OnCompat(rule)
	}
}
