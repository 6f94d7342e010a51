package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/tokenstore"
)

// auditActions are the actions the filter offers.
var auditActions = []string{
	audit.ClientCreated, audit.ClientUpdated, audit.ClientDeleted, audit.TokenCreated, audit.TokenRevoked,
	audit.SecretRotated, audit.KeyRotated, audit.AuthFailed,
	audit.DirectoryCreated, audit.DirectoryUpdated, audit.DirectoryDeleted,
	audit.UserProvisioned, audit.UserUpdated, audit.UserDeprovisioned, audit.UserReactivated, audit.UserDeleted,
	audit.GroupCreated, audit.GroupSynced, audit.GroupDeleted, audit.GroupMembershipChanged,
}

// auditPageSize is how many events one page shows.
const auditPageSize = 50

// auditFilter is the filter form as typed (a GET form: the values are in
// the URL, which is fine, they are not secret).
type auditFilter struct {
	Action, Client, Target, Since, Until string
	// Directory (id or name) reads that directory's stream, its SCIM
	// writes; empty: the default directory's stream, which also holds the
	// admin and credential events.
	Directory string
}

// auditPage is the data of the audit page.
type auditPage struct {
	Filter  auditFilter
	Errors  fieldErrors
	Actions []string
	Clients []tokenstore.Client
	// Directories are the choices of the directory filter.
	Directories []adminapi.DirectoryJSON
	Events      []audit.Event
	// ClientNames maps client ids to names for the actor column.
	ClientNames map[string]string
	// NextURL is the link to the page of older events, "" on the last;
	// NewestURL goes back to the newest events ("" on that page).
	NextURL, NewestURL string
}

// auditPage shows the audit trail, newest first, a page at a time going
// back in time (audit.Log.QueryNewest, bounded reads), filtered by action,
// acting client, target and time (adminapi.AuditQuery reads the filters,
// as the admin API's /audit does).
func (c *Console) auditPage(ctx *gin.Context) {
	rctx := ctx.Request.Context()
	f := auditFilter{Action: ctx.Query("action"), Client: ctx.Query("client"), Target: ctx.Query("target"),
		Since: ctx.Query("since"), Until: ctx.Query("until"), Directory: ctx.Query("directory")}
	clients, err := c.svc.ListClients(rctx)
	if err != nil {
		c.fail(ctx, err)
		return
	}
	dirs, err := c.svc.DirectoryChoices(rctx)
	if err != nil {
		c.fail(ctx, err)
		return
	}
	page := auditPage{Filter: f, Actions: auditActions, Clients: clients, Directories: dirs, ClientNames: map[string]string{}}
	for _, cl := range clients {
		page.ClientNames[cl.ID] = cl.Name
	}
	params := map[string]string{"action": f.Action, "client": f.Client, "target": f.Target,
		"since": f.Since, "until": f.Until, "directory": f.Directory, "cursor": ctx.Query("cursor")}
	q, err := adminapi.AuditQuery(func(k string) string { return params[k] }, c.now())
	l := c.events
	if err == nil && f.Directory != "" {
		// The same stream the admin API's ?directory= reads.
		if l, err = c.svc.DirectoryAudit(rctx, f.Directory); errors.Is(err, directory.ErrNotFound) {
			err = &adminapi.FieldError{Field: "directory", Msg: "no directory " + strconv.Quote(f.Directory)}
		}
	}
	if err == nil {
		q.Limit = auditPageSize
		var p audit.Page
		p, err = l.QueryNewest(rctx, q, 0)
		if err == nil {
			page.Events = p.Events
			link := func(cursor string) string {
				v := url.Values{}
				for k, val := range params {
					if val != "" && k != "cursor" {
						v.Set(k, val)
					}
				}
				if cursor != "" {
					v.Set("cursor", cursor)
				}
				if len(v) == 0 {
					return Prefix + "/audit"
				}
				return Prefix + "/audit?" + v.Encode()
			}
			if p.Next != "" {
				page.NextURL = link(p.Next)
			}
			if q.Cursor != "" {
				page.NewestURL = link("")
			}
		}
	}
	var fe *adminapi.FieldError
	switch {
	case err == nil:
		c.render(ctx, http.StatusOK, "audit", "Audit trail", page)
	case errors.As(err, &fe):
		page.Errors = fieldErrors{fe.Field: fe.Msg}
		c.render(ctx, http.StatusBadRequest, "audit", "Audit trail", page)
	case errors.Is(err, audit.ErrBadCursor):
		page.Errors = fieldErrors{"": "The page link was malformed; showing the filters again."}
		c.render(ctx, http.StatusBadRequest, "audit", "Audit trail", page)
	default:
		c.fail(ctx, err)
	}
}
