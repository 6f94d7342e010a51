package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/directory"
)

// upstreamForm is a directory's backend form as typed. The token, client
// secret and CA bundle are write-only: the form never shows them, and
// leaving them empty keeps what is stored.
type upstreamForm struct {
	Backend, URL, Auth         string
	TokenURL, ClientID, Scopes string
	Timeout, MaxConcurrency    string
	token, clientSecret, ca    string
	ClearCA                    bool
	Errors                     fieldErrors
}

// upstreamPage is the data of a directory's upstream page.
type upstreamPage struct {
	Directory adminapi.DirectoryJSON
	Form      upstreamForm
	// Config is set for the default directory, whose upstream is the
	// configuration file's (upstream.*): no form.
	Config bool
}

// formOf fills the form from the stored settings.
func formOf(d adminapi.DirectoryJSON) upstreamForm {
	f := upstreamForm{Backend: d.Backend, Auth: directory.AuthBearer}
	if u := d.Upstream; u != nil {
		f.URL, f.Auth, f.TokenURL, f.ClientID = u.URL, u.Auth, u.TokenURL, u.ClientID
		f.Scopes, f.Timeout, f.MaxConcurrency = strings.Join(u.Scopes, " "), u.Timeout, strconv.Itoa(u.MaxConcurrency)
	}
	return f
}

func (c *Console) showUpstream(ctx *gin.Context) {
	d, err := c.svc.Directory(ctx.Request.Context(), ctx.Param("id"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	c.render(ctx, http.StatusOK, "directory_upstream", "Backend of "+d.Name, upstreamPage{Directory: d, Form: formOf(d), Config: d.ID == directory.DefaultID})
}

func readUpstreamForm(ctx *gin.Context) upstreamForm {
	v := func(k string) string { return strings.TrimSpace(ctx.PostForm(k)) }
	return upstreamForm{Backend: v("backend"), URL: v("url"), Auth: v("auth"), TokenURL: v("token_url"), ClientID: v("client_id"),
		Scopes: v("scopes"), Timeout: v("timeout"), MaxConcurrency: v("max_concurrency"),
		token: v("token"), clientSecret: v("client_secret"), ca: v("ca"), ClearCA: ctx.PostForm("clear_ca") == "on"}
}

// patch turns the form into a DirectoryPatch; cur is the directory as
// stored (switching the credential kind needs the new one's secret).
func (f upstreamForm) patch(cur adminapi.DirectoryJSON) (adminapi.DirectoryPatch, fieldErrors) {
	p := adminapi.DirectoryPatch{Backend: &f.Backend}
	switch f.Backend {
	case directory.BackendStored:
		return p, nil
	case directory.BackendUpstream:
	default:
		return p, fieldErrors{"backend": "Choose stored or upstream."}
	}
	u := &adminapi.UpstreamSpec{URL: &f.URL}
	curAuth := ""
	if cur.Upstream != nil {
		curAuth = cur.Upstream.Auth
	}
	switch f.Auth {
	case directory.AuthBearer:
		if f.token != "" {
			u.Token = &f.token
		} else if curAuth != directory.AuthBearer {
			return p, fieldErrors{"upstream.token": "Enter the token scimgate presents to the upstream."}
		}
	case directory.AuthClientCredentials:
		u.TokenURL, u.ClientID, u.Scopes = &f.TokenURL, &f.ClientID, strings.Fields(f.Scopes)
		if u.Scopes == nil {
			u.Scopes = []string{}
		}
		if f.clientSecret != "" {
			u.ClientSecret = &f.clientSecret
		} else if curAuth != directory.AuthClientCredentials {
			return p, fieldErrors{"upstream.client_secret": "Enter the client secret."}
		}
	default:
		return p, fieldErrors{"auth": "Choose how scimgate authenticates to the upstream."}
	}
	if f.Timeout != "" {
		u.Timeout = &f.Timeout
	}
	if f.MaxConcurrency != "" {
		n, err := strconv.Atoi(f.MaxConcurrency)
		if err != nil {
			return p, fieldErrors{"upstream.max_concurrency": "Enter a whole number from 1 to 100000."}
		}
		u.MaxConcurrency = &n
	}
	switch {
	case f.ClearCA:
		empty := ""
		u.CA = &empty
	case f.ca != "":
		u.CA = &f.ca
	}
	p.Upstream = u
	return p, nil
}

// updateUpstream saves a directory's backend from the form (audited as
// DIRECTORY_UPDATED with the names of the changed fields, never values).
func (c *Console) updateUpstream(ctx *gin.Context) {
	rctx := ctx.Request.Context()
	d, err := c.svc.Directory(rctx, ctx.Param("id"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	page := upstreamPage{Directory: d, Config: d.ID == directory.DefaultID}
	if page.Config {
		c.render(ctx, http.StatusConflict, "directory_upstream", "Backend of "+d.Name, upstreamPage{Directory: d, Form: formOf(d), Config: true})
		return
	}
	f := readUpstreamForm(ctx)
	p, errs := f.patch(d)
	if errs == nil {
		_, err = c.svc.UpdateDirectory(rctx, d.ID, p)
		if err == nil {
			redirect(ctx, "/directories/"+d.ID+"/upstream?notice=updated")
			return
		}
		var ok bool
		if errs, ok = directoryFormErrors(err); !ok {
			if errors.Is(err, directory.ErrTokenSealed) {
				errs = fieldErrors{"": "A stored credential is sealed with another key-encryption key: enter the token or client secret again."}
			} else {
				c.fail(ctx, err)
				return
			}
		}
	}
	f.Errors = errs
	page.Form = f
	c.render(ctx, http.StatusBadRequest, "directory_upstream", "Backend of "+d.Name, page)
}
