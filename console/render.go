package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/redisfault"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/tokenstore"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// view is what every page template gets: the layout's fields and the
// page's own data in Page.
type view struct {
	Title    string
	SignedIn bool
	// CSRF is the session's token for the forms on the page.
	CSRF   string
	Nav    string
	Notice string
	Page   any
}

// errorPage is the data of the "error" page.
type errorPage struct {
	Message string
	Back    string
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"methodLabel": methodLabel,
	"join":        strings.Join,
	"prefix":      func() string { return Prefix },
	"kindLabel": func(k string) string {
		if l, ok := reportKinds[k]; ok {
			return l
		}
		return k
	},
}

// parsePages parses each page template together with the layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		pages[base] = t
	}
	return pages, nil
}

// render writes page with status. The page is executed into a buffer
// first, so a template error never sends half a page.
func (c *Console) render(ctx *gin.Context, status int, page, title string, data any) {
	t, ok := c.pages[page]
	if !ok {
		c.fail(ctx, fmt.Errorf("console: no page %q", page))
		return
	}
	v := view{Title: title, Page: data, Notice: notices[ctx.Query("notice")]}
	if s, ok := ctx.Get(sessionKey); ok {
		v.SignedIn, v.CSRF = true, s.(session).CSRF
	}
	switch {
	case page == "audit" || page == "report":
		v.Nav = page
	case page == "directories" || page == "directory_delete" || page == "browse" || page == "resource" || page == "directory_upstream":
		v.Nav = "directories"
	case v.SignedIn:
		v.Nav = "clients"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.log.ErrorContext(ctx.Request.Context(), "console template failed", "page", page, "err", err.Error())
		ctx.String(http.StatusInternalServerError, "internal error")
		return
	}
	ctx.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// notices are the fixed messages a redirect may ask a page to show.
var notices = map[string]string{
	"expired":    "Your session has ended. Please sign in again.",
	"signedout":  "You have signed out.",
	"updated":    "Changes saved.",
	"deleted":    "Client deleted.",
	"revoked":    "Token revoked. SCIM requests with it are refused within a second.",
	"dircreated": "Directory created. Pick it when creating the SCIM client of its identity provider.",
}

// fail answers an unexpected or not-found error.
func (c *Console) fail(ctx *gin.Context, err error) {
	if errors.Is(err, directory.ErrNotFound) {
		c.render(ctx, http.StatusNotFound, "error", "Not found", errorPage{
			Message: "That directory does not exist (any more).", Back: Prefix + "/directories"})
		ctx.Abort()
		return
	}
	if errors.Is(err, tokenstore.ErrNotFound) {
		c.render(ctx, http.StatusNotFound, "error", "Not found", errorPage{
			Message: "That client or token does not exist (any more).", Back: Prefix + "/clients"})
		ctx.Abort()
		return
	}
	if k := redisfault.Classify(err); k != redisfault.None {
		c.log.WarnContext(ctx.Request.Context(), "console: storage unavailable", "route", ctx.FullPath(), "kind", string(k), "err", err.Error())
		scimerr.Unavailable(k).Header(ctx.Writer.Header())
		c.render(ctx, http.StatusServiceUnavailable, "error", "Temporarily unavailable", errorPage{
			Message: "The data store is unavailable (" + redisfault.Detail(k) + "). Nothing was changed unless a later page shows it; try again in a moment.", Back: Prefix + "/clients"})
		ctx.Abort()
		return
	}
	c.log.ErrorContext(ctx.Request.Context(), "console failure", "route", ctx.FullPath(), "err", err.Error())
	c.render(ctx, http.StatusInternalServerError, "error", "Something went wrong", errorPage{
		Message: "The action failed because of an internal error; it is logged. Try again in a moment.", Back: Prefix + "/clients"})
	ctx.Abort()
}

// redirect answers 303 See Other to a console path.
func redirect(ctx *gin.Context, to string) {
	ctx.Redirect(http.StatusSeeOther, Prefix+to)
}

// serveStatic serves the embedded CSS and script.
func serveStatic(ctx *gin.Context) {
	name := strings.TrimPrefix(ctx.Param("file"), "/")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		ctx.Status(http.StatusNotFound)
		return
	}
	ct := "text/plain; charset=utf-8"
	switch path.Ext(name) {
	case ".css":
		ct = "text/css; charset=utf-8"
	case ".js":
		ct = "text/javascript; charset=utf-8"
	}
	ctx.Header("Cache-Control", "public, max-age=3600")
	ctx.Data(http.StatusOK, ct, b)
}

// NotFound answers a console path no route takes (the engine's NoRoute
// hands it /admin/... paths outside the admin API) with the console's
// 404 page instead of a JSON body.
func (c *Console) NotFound(ctx *gin.Context) {
	securityHeaders(ctx)
	if ctx.Request.Method != http.MethodGet && ctx.Request.Method != http.MethodHead {
		ctx.String(http.StatusNotFound, "no such page")
		return
	}
	c.render(ctx, http.StatusNotFound, "error", "Page not found", errorPage{
		Message: "There is no console page at this address. It may have moved, or the link is mistyped.",
		Back:    Prefix + "/clients"})
}
