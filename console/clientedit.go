package console

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// editFormOf fills the client page's edit form with cl's settings: the
// fields of every method and, for cl's method only, its own settings.
func (c *Console) editFormOf(cl tokenstore.Client) editForm {
	ef := editForm{Name: cl.Name, Provider: cl.Provider, Enabled: cl.Enabled, Method: cl.Method,
		Issuer: cl.Issuer, Subject: cl.Subject, Audience: cl.Audience, JWKSURL: cl.JWKSURL,
		Scopes: slices.Clone(cl.AllowedScopes)}
	if rl := adminapi.ToRateLimitJSON(cl.RateLimit); rl != nil {
		ef.RateLimit, ef.Burst = rl.Rate, strconv.Itoa(rl.Burst)
	}
	c.scopeChoices(&ef, cl)
	return ef
}

// scopeChoices sets the scopes the edit form offers: the configured ones
// and any the client already has (which it may keep).
func (c *Console) scopeChoices(ef *editForm, cl tokenstore.Client) {
	ef.KnownScopes = slices.Clone(c.svc.OfferedScopes())
	for _, s := range cl.AllowedScopes {
		if !slices.Contains(ef.KnownScopes, s) {
			ef.KnownScopes = append(ef.KnownScopes, s)
		}
	}
}

// readEditForm reads the posted edit form of client cl; the settings of
// methods other than cl's are ignored.
func (c *Console) readEditForm(ctx *gin.Context, cl tokenstore.Client) editForm {
	ef := editForm{Name: strings.TrimSpace(ctx.PostForm("name")), Provider: strings.TrimSpace(ctx.PostForm("provider")),
		Enabled: ctx.PostForm("enabled") == "on", Method: cl.Method,
		RateLimit: strings.TrimSpace(ctx.PostForm("rate_limit")), Burst: strings.TrimSpace(ctx.PostForm("burst"))}
	switch auth.Method(cl.Method) {
	case auth.MethodIdPJWT:
		ef.Issuer = strings.TrimSpace(ctx.PostForm("issuer"))
		ef.Subject = strings.TrimSpace(ctx.PostForm("subject"))
		ef.Audience = strings.TrimSpace(ctx.PostForm("audience"))
		ef.JWKSURL = strings.TrimSpace(ctx.PostForm("jwks_url"))
	case auth.MethodClientCredentials:
		ef.Scopes = ctx.PostFormArray("scopes")
	}
	c.scopeChoices(&ef, cl)
	return ef
}

// patch turns the edit form into the update the admin API would get; the
// Service validates it (and audits the change) as it does for PATCH.
func (ef editForm) patch() (adminapi.ClientPatch, fieldErrors) {
	p := adminapi.ClientPatch{Name: &ef.Name, Provider: &ef.Provider, Enabled: &ef.Enabled, RateLimit: &ef.RateLimit}
	if ef.Burst != "" {
		n, err := strconv.Atoi(ef.Burst)
		if err != nil {
			return p, fieldErrors{"burst": "a whole number of requests, or empty for the rate"}
		}
		if ef.RateLimit == "" {
			return p, fieldErrors{"burst": "set a rate limit too, or leave the burst empty"}
		}
		p.Burst = &n
	}
	switch auth.Method(ef.Method) {
	case auth.MethodIdPJWT:
		p.Issuer, p.Subject, p.Audience, p.JWKSURL = &ef.Issuer, &ef.Subject, &ef.Audience, &ef.JWKSURL
	case auth.MethodClientCredentials:
		if len(ef.Scopes) == 0 {
			return p, fieldErrors{"allowed_scopes": "Tick at least one scope."}
		}
		p.AllowedScopes = &ef.Scopes
	}
	return p, nil
}
