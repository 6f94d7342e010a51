package console

import (
	"crypto/subtle"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
)

// loginPage is the data of the sign-in page.
type loginPage struct {
	// LoginCSRF is the sign-in form's token, also set as a cookie.
	LoginCSRF  string
	Error      string
	Configured bool
	// OIDC names the OpenID provider's host when OIDC sign-in is on.
	OIDC string
}

// loginForm shows the sign-in form, or the clients page to someone
// already signed in.
func (c *Console) loginForm(ctx *gin.Context) {
	id, _ := ctx.Cookie(sessionCookie)
	if _, ok, err := c.sessions.get(ctx.Request.Context(), id); err == nil && ok {
		redirect(ctx, "/clients")
		return
	}
	c.showLogin(ctx, http.StatusOK, "")
}

// showLogin renders the sign-in form with a fresh login CSRF token.
func (c *Console) showLogin(ctx *gin.Context, status int, msg string) {
	tok, err := randomToken()
	if err != nil {
		c.fail(ctx, err)
		return
	}
	c.setCookie(ctx, loginCookie, tok, 600)
	lp := loginPage{LoginCSRF: tok, Error: msg, Configured: c.cred.Configured()}
	if c.oidc != nil {
		lp.OIDC = c.oidc.label
	}
	c.render(ctx, status, "login", "Sign in", lp)
}

// login checks the admin credential (constant time, as the admin API
// does) and starts a session. The credential is never logged or echoed.
func (c *Console) login(ctx *gin.Context) {
	want, _ := ctx.Cookie(loginCookie)
	got := ctx.PostForm(csrfField)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		c.showLogin(ctx, http.StatusForbidden, "The sign-in form had expired. Please try again.")
		return
	}
	if !c.cred.Configured() {
		c.showLogin(ctx, http.StatusUnauthorized, "No admin credential is configured (admin.token or admin.token_hash), so nobody can sign in.")
		return
	}
	if !c.cred.Verify(ctx.PostForm("token")) {
		ctx.Set(adminapi.AuthFailedKey, true)
		c.log.InfoContext(ctx.Request.Context(), "console sign-in failed", "ip", ctx.ClientIP())
		c.showLogin(ctx, http.StatusUnauthorized, "That is not the admin credential.")
		return
	}
	id, sess, err := c.sessions.create(ctx.Request.Context(), "admin_token")
	if err != nil {
		c.fail(ctx, err)
		return
	}
	c.log.InfoContext(ctx.Request.Context(), "console sign-in", "ip", ctx.ClientIP(), "expires_at", sess.ExpiresAt)
	c.setCookie(ctx, loginCookie, "", -1)
	c.setCookie(ctx, sessionCookie, id, int(sess.ExpiresAt.Sub(sess.CreatedAt).Seconds()))
	redirect(ctx, "/clients")
}

// logout ends the session.
func (c *Console) logout(ctx *gin.Context) {
	id := ctx.GetString(sessionIDKey)
	if err := c.sessions.delete(ctx.Request.Context(), id); err != nil {
		c.fail(ctx, err)
		return
	}
	c.setCookie(ctx, sessionCookie, "", -1)
	ctx.Redirect(http.StatusSeeOther, Prefix+"/login?notice=signedout")
}
