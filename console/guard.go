package console

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/server"
)

const (
	// sessionCookie holds the session id.
	sessionCookie = "scimgate_console"
	// loginCookie holds the sign-in form's CSRF token (double submit).
	loginCookie = "scimgate_console_login"
	// csrfField is the hidden form field carrying the CSRF token.
	csrfField = "csrf"
	// maxForm bounds form bodies.
	maxForm = 64 << 10
	// sessionKey is where requireSession leaves the session on the context.
	sessionKey = "console.session"
	// sessionIDKey is where requireSession leaves the session id.
	sessionIDKey = "console.session_id"
)

// securityHeaders forbids framing, inline scripts and foreign resources,
// and keeps console pages out of caches and out of other sites' Referer
// headers.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: under no-referrer browsers send
	// "Origin: null" on form POSTs, which sameOrigin must refuse.
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(c.Request.URL.Path, Prefix+"/static/") {
		h.Set("Cache-Control", "no-store")
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxForm)
	c.Next()
}

// secure reports whether cookies must be Secure: the request came over TLS
// or public_url is https.
func (c *Console) secure(r *http.Request) bool { return r.TLS != nil || c.secureCookies }

// setCookie writes an HttpOnly, SameSite=Strict cookie scoped to /admin;
// maxAge < 0 deletes it.
func (c *Console) setCookie(ctx *gin.Context, name, value string, maxAge int) {
	http.SetCookie(ctx.Writer, &http.Cookie{
		Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure(ctx.Request), SameSite: http.SameSiteStrictMode,
	})
}

// sameOrigin refuses a POST that a browser marks as cross-site.
func (c *Console) sameOrigin(ctx *gin.Context) {
	if why := c.crossSite(ctx.Request); why != "" {
		c.forbid(ctx, why)
		return
	}
	ctx.Next()
}

// crossSite says why r is cross-site, or "" when it is not: a
// Sec-Fetch-Site other than same-origin (or none, a typed URL), or an
// Origin other than this server's own or public_url's.
func (c *Console) crossSite(r *http.Request) string {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return "cross-site request (Sec-Fetch-Site: " + site + ")"
	}
	if o := r.Header.Get("Origin"); o != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		if o != scheme+"://"+r.Host && (c.publicOrigin == "" || o != c.publicOrigin) {
			return "cross-origin request"
		}
	}
	return ""
}

// requireSession admits requests with a live session and sends others to
// the sign-in page. It puts the session on the context and the origin of
// admin actions (for their audit events) on the request context.
func (c *Console) requireSession(ctx *gin.Context) {
	id, _ := ctx.Cookie(sessionCookie)
	sess, ok, err := c.sessions.get(ctx.Request.Context(), id)
	if err != nil {
		c.fail(ctx, err)
		return
	}
	if !ok {
		to := Prefix + "/login"
		if id != "" {
			c.setCookie(ctx, sessionCookie, "", -1)
			to += "?notice=expired"
		}
		ctx.Redirect(http.StatusSeeOther, to)
		ctx.Abort()
		return
	}
	ctx.Set(sessionKey, sess)
	ctx.Set(sessionIDKey, id)
	rctx := adminapi.WithOrigin(ctx.Request.Context(), adminapi.Origin{
		Via: "console_" + sess.Via, RequestID: server.RequestIDFrom(ctx), SourceIP: ctx.ClientIP(),
	})
	ctx.Request = ctx.Request.WithContext(rctx)
	ctx.Next()
}

// checkCSRF guards a state-changing request of a signed-in administrator:
// same origin, and the form's CSRF token equal (in constant time) to the
// session's.
func (c *Console) checkCSRF(ctx *gin.Context) {
	if why := c.crossSite(ctx.Request); why != "" {
		c.forbid(ctx, why)
		return
	}
	sess := sessionOf(ctx)
	got := ctx.PostForm(csrfField)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		c.forbid(ctx, "missing or wrong CSRF token")
		return
	}
	ctx.Next()
}

// forbid answers 403 with a page telling the administrator to reload.
func (c *Console) forbid(ctx *gin.Context, why string) {
	c.log.WarnContext(ctx.Request.Context(), "console request refused", "reason", why,
		"route", ctx.FullPath(), "ip", ctx.ClientIP())
	c.render(ctx, http.StatusForbidden, "error", "Request refused", errorPage{
		Message: "This form was stale or was sent from another site. Go back, reload the page and try again.",
	})
	ctx.Abort()
}

func sessionOf(ctx *gin.Context) session {
	s, _ := ctx.Get(sessionKey)
	sess, _ := s.(session)
	return sess
}
