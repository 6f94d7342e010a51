package console

import (
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// tokenRow is a token as the client page lists it.
type tokenRow struct {
	tokenstore.Token
	// Status is active, expired or revoked at the time of the page.
	Status string
}

func toTokenRow(t tokenstore.Token, now time.Time) tokenRow {
	return tokenRow{Token: t, Status: string(t.Status(now))}
}

// newTokenSpec is the first token of a new static_token client, with the
// default validity: scim_v2 when it is on offer, else every offered scope
// (scopes.offered), so the token is never refused after its client exists.
func newTokenSpec(offered []string) adminapi.TokenSpec {
	scopes := []string{auth.ScopeSCIM}
	if !slices.Contains(offered, auth.ScopeSCIM) {
		scopes = slices.Clone(offered)
	}
	return adminapi.TokenSpec{Name: "initial", Scopes: scopes}
}

// tokenFormPage is the data of the "+ Token" page.
type tokenFormPage struct {
	Client tokenstore.Client
	Form   tokenForm
}

func (c *Console) newTokenForm(ctx *gin.Context) {
	cl, err := c.svc.Client(ctx.Request.Context(), ctx.Param("id"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	f := newTokenForm()
	f.KnownScopes = c.svc.OfferedScopes()
	c.render(ctx, http.StatusOK, "token_new", "New token for "+cl.Name, tokenFormPage{Client: cl, Form: f})
}

// createToken issues a static token and shows it once.
func (c *Console) createToken(ctx *gin.Context) {
	rctx := ctx.Request.Context()
	cl, err := c.svc.Client(rctx, ctx.Param("id"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	f := readTokenForm(ctx)
	spec, errs := f.spec()
	var plain string
	var t tokenstore.Token
	if errs == nil {
		plain, t, err = c.svc.CreateToken(rctx, cl.ID, spec)
		if err != nil {
			var ok bool
			if errs, ok = formErrors(err); !ok {
				c.fail(ctx, err)
				return
			}
		}
	}
	if errs != nil {
		f.Errors, f.KnownScopes = errs, c.svc.OfferedScopes()
		c.render(ctx, http.StatusBadRequest, "token_new", "New token for "+cl.Name, tokenFormPage{Client: cl, Form: f})
		return
	}
	row := toTokenRow(t, c.now())
	c.showCreated(ctx, http.StatusCreated, createdPage{Client: cl, Heading: "Token created for " + cl.Name, Token: plain, TokenRow: &row})
}

func (c *Console) confirmRevoke(ctx *gin.Context) {
	t, err := c.svc.Token(ctx.Request.Context(), ctx.Param("id"), ctx.Param("tokenId"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	name := t.Name
	if name == "" {
		name = t.ID
	}
	c.render(ctx, http.StatusOK, "confirm", "Revoke token", confirmPage{
		Message: "Revoke token " + name + "? SCIM requests with it are refused within a second. This cannot be undone.",
		Action:  Prefix + "/clients/" + t.ClientID + "/tokens/" + t.ID + "/revoke", Button: "Revoke token",
		Back: Prefix + "/clients/" + t.ClientID, Danger: true,
	})
}

func (c *Console) revokeToken(ctx *gin.Context) {
	t, err := c.svc.RevokeToken(ctx.Request.Context(), ctx.Param("id"), ctx.Param("tokenId"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	redirect(ctx, "/clients/"+t.ClientID+"?notice=revoked")
}

func (c *Console) confirmRotate(ctx *gin.Context) {
	cl, err := c.svc.Client(ctx.Request.Context(), ctx.Param("id"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	c.render(ctx, http.StatusOK, "confirm", "Rotate client secret", confirmPage{
		Message: "Give " + cl.Name + " a new client secret? The current secret stops working at once; access tokens already issued stay valid until they expire.",
		Action:  Prefix + "/clients/" + cl.ID + "/rotate-secret", Button: "Rotate secret", Back: Prefix + "/clients/" + cl.ID, Danger: true,
	})
}

// rotateSecret gives a client_credentials client a new secret and shows
// it once.
func (c *Console) rotateSecret(ctx *gin.Context) {
	cl, secret, err := c.svc.RotateSecret(ctx.Request.Context(), ctx.Param("id"))
	if err != nil {
		if errs, ok := formErrors(err); ok {
			c.render(ctx, http.StatusConflict, "error", "Cannot rotate", errorPage{Message: errs[""], Back: Prefix + "/clients/" + ctx.Param("id")})
			return
		}
		c.fail(ctx, err)
		return
	}
	c.showCreated(ctx, http.StatusOK, createdPage{Client: cl, Heading: "New client secret for " + cl.Name, Secret: secret})
}
