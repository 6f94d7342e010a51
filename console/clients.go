package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// clientsPage is the data of the SCIM clients list.
type clientsPage struct {
	Clients []tokenstore.Client
	// DirNames maps directory ids to names.
	DirNames map[string]string
	// Query is the name prefix searched for; Error refuses it.
	Query, Error string
	// NextURL is the following page ("" on the last); FirstURL goes back
	// to the first page ("" on it).
	NextURL, FirstURL string
}

// clientPageSize is how many clients one page of the list shows.
const clientPageSize = 50

// listClients shows a page of the clients in name order, searched by
// name prefix (case-insensitive): ?q=PREFIX&cursor=... The store reads
// only the clients on the page.
func (c *Console) listClients(ctx *gin.Context) {
	page := clientsPage{Query: strings.TrimSpace(ctx.Query("q"))}
	q, err := adminapi.ClientQuery(func(k string) string {
		switch k {
		case "q":
			return page.Query
		case "cursor":
			return ctx.Query("cursor")
		}
		return ""
	})
	q.Limit = clientPageSize
	status := http.StatusOK
	var p tokenstore.ClientPage
	if err == nil {
		p, err = c.svc.ListClientsPage(ctx.Request.Context(), q)
	}
	var fe *adminapi.FieldError
	switch {
	case errors.As(err, &fe) && fe.Field == "cursor":
		page.Error, status = "The page link was malformed; showing the first page.", http.StatusBadRequest
		q.Cursor = ""
		p, err = c.svc.ListClientsPage(ctx.Request.Context(), q)
	case errors.As(err, &fe):
		page.Error, status = "Search: "+fe.Msg, http.StatusBadRequest
		p, err = tokenstore.ClientPage{}, nil
	}
	if err != nil {
		c.fail(ctx, err)
		return
	}
	page.Clients = p.Clients
	if page.DirNames, err = c.directoryNames(ctx); err != nil {
		c.fail(ctx, err)
		return
	}
	link := func(cursor string) string {
		v := url.Values{}
		if page.Query != "" {
			v.Set("q", page.Query)
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		if len(v) == 0 {
			return Prefix + "/clients"
		}
		return Prefix + "/clients?" + v.Encode()
	}
	if p.Next != "" {
		page.NextURL = link(p.Next)
	}
	if q.Cursor != "" {
		page.FirstURL = link("")
	}
	c.render(ctx, status, "clients", "SCIM clients", page)
}

func (c *Console) newClientForm(ctx *gin.Context) {
	f := newClientForm()
	if d := ctx.Query("directory"); d != "" {
		f.Directory = d
	}
	c.renderClientForm(ctx, http.StatusOK, f)
}

// renderClientForm shows the "+ SCIM client" form f with the directory
// picker's choices (directories being deleted take no clients).
func (c *Console) renderClientForm(ctx *gin.Context, status int, f clientForm) {
	ds, err := c.svc.DirectoryChoices(ctx.Request.Context())
	if err != nil {
		c.fail(ctx, err)
		return
	}
	for _, d := range ds {
		if !d.Deleting {
			f.Directories = append(f.Directories, d)
		}
	}
	f.KnownScopes = c.svc.OfferedScopes()
	c.render(ctx, status, "client_new", "New SCIM client", f)
}

// createdPage shows a new credential once: the static token, or the
// client id and secret.
type createdPage struct {
	Client tokenstore.Client
	// Heading says what happened ("Client created", "Token created", ...).
	Heading string
	Token   string
	Secret  string
	// TokenRow is the new token's record (static tokens only).
	TokenRow *tokenRow
}

// createClient creates the client; a static_token client also gets its
// first scim_v2 token, so the identity provider can be set up at once.
// The credentials are shown in this response only (no redirect, no-store).
func (c *Console) createClient(ctx *gin.Context) {
	f := readClientForm(ctx)
	rctx := ctx.Request.Context()
	cl, secret, err := c.svc.CreateClientWithSecret(rctx, f.spec())
	if err != nil {
		errs, ok := formErrors(err)
		if !ok {
			c.fail(ctx, err)
			return
		}
		f.Errors = errs
		c.renderClientForm(ctx, http.StatusBadRequest, f)
		return
	}
	page := createdPage{Client: cl, Heading: "SCIM client " + cl.Name + " created", Secret: secret}
	if cl.Method == string(auth.MethodStaticToken) {
		plain, t, err := c.svc.CreateToken(rctx, cl.ID, newTokenSpec(c.svc.OfferedScopes()))
		if err != nil {
			c.fail(ctx, err)
			return
		}
		row := toTokenRow(t, c.now())
		page.Token, page.TokenRow = plain, &row
	}
	c.showCreated(ctx, http.StatusCreated, page)
}

// showCreated renders a one-time credential; it must never be cached.
func (c *Console) showCreated(ctx *gin.Context, status int, page createdPage) {
	ctx.Header("Cache-Control", "no-store")
	ctx.Header("Pragma", "no-cache")
	c.render(ctx, status, "created", page.Heading, page)
}

// clientPage is the data of a client's page.
type clientPage struct {
	Client tokenstore.Client
	// DirectoryName is the name of the client's directory.
	DirectoryName string
	Edit          editForm
	Tokens        []tokenRow
	// Static reports whether the client uses static tokens.
	Static bool
	// ClientCredentials reports whether the client has a secret to rotate.
	ClientCredentials bool
}

func (c *Console) showClient(ctx *gin.Context) {
	cl, err := c.svc.Client(ctx.Request.Context(), ctx.Param("id"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	c.renderClient(ctx, http.StatusOK, cl, c.editFormOf(cl))
}

// renderClient shows client cl with the edit form in the state ef.
func (c *Console) renderClient(ctx *gin.Context, status int, cl tokenstore.Client, ef editForm) {
	page := clientPage{Client: cl, Edit: ef,
		Static:            cl.Method == string(auth.MethodStaticToken),
		ClientCredentials: cl.Method == string(auth.MethodClientCredentials)}
	names, err := c.directoryNames(ctx)
	if err != nil {
		c.fail(ctx, err)
		return
	}
	page.DirectoryName = names[cl.Directory()]
	if page.Static {
		ts, err := c.svc.ListTokens(ctx.Request.Context(), cl.ID)
		if err != nil {
			c.fail(ctx, err)
			return
		}
		now := c.now()
		for _, t := range ts {
			page.Tokens = append(page.Tokens, toTokenRow(t, now))
		}
	}
	c.render(ctx, status, "client", "SCIM client "+cl.Name, page)
}

// updateClient saves the edit form: name, provider, enabled, rate limit,
// and the settings of the client's method (IdP issuer, subject, audience,
// JWKS URL; allowed scopes), through the Service's update as the admin
// API's PATCH, audited alike.
func (c *Console) updateClient(ctx *gin.Context) {
	rctx := ctx.Request.Context()
	cl, err := c.svc.Client(rctx, ctx.Param("id"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	ef := c.readEditForm(ctx, cl)
	p, errs := ef.patch()
	if errs == nil {
		if _, err := c.svc.UpdateClient(rctx, cl.ID, p); err != nil {
			var ok bool
			if errs, ok = formErrors(err); !ok {
				c.fail(ctx, err)
				return
			}
		}
	}
	if errs != nil {
		ef.Errors = errs
		c.renderClient(ctx, http.StatusBadRequest, cl, ef)
		return
	}
	redirect(ctx, "/clients/"+cl.ID+"?notice=updated")
}

func (c *Console) confirmDelete(ctx *gin.Context) {
	cl, err := c.svc.Client(ctx.Request.Context(), ctx.Param("id"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	c.render(ctx, http.StatusOK, "confirm", "Delete "+cl.Name, confirmPage{
		Message: "Delete SCIM client " + cl.Name + " and all its credentials? Its identity provider can no longer provision. This cannot be undone.",
		Action:  Prefix + "/clients/" + cl.ID + "/delete", Button: "Delete client", Back: Prefix + "/clients/" + cl.ID, Danger: true,
	})
}

func (c *Console) deleteClient(ctx *gin.Context) {
	if _, err := c.svc.DeleteClient(ctx.Request.Context(), ctx.Param("id")); err != nil {
		c.fail(ctx, err)
		return
	}
	redirect(ctx, "/clients?notice=deleted")
}

// confirmPage asks before an irreversible action; the action is a POST
// form, so confirming needs no JavaScript.
type confirmPage struct {
	Message, Action, Button, Back string
	Danger                        bool
}
