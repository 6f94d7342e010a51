package console

import (
	"bytes"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
)

// reportPage shows adminapi's credential report: which credentials can
// touch the directory, with what scopes, and when they were last used.
func (c *Console) reportPage(ctx *gin.Context) {
	r, err := c.svc.CredentialReport(ctx.Request.Context())
	if err != nil {
		c.fail(ctx, err)
		return
	}
	c.render(ctx, http.StatusOK, "report", "Credential report", r)
}

// reportCSV downloads the same report as CSV (adminapi's columns).
func (c *Console) reportCSV(ctx *gin.Context) {
	r, err := c.svc.CredentialReport(ctx.Request.Context())
	if err != nil {
		c.fail(ctx, err)
		return
	}
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		c.fail(ctx, err)
		return
	}
	ctx.Header("Content-Disposition", `attachment; filename="credentials-`+r.GeneratedAt.Format("20060102-150405")+`.csv"`)
	ctx.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// reportKinds labels credential kinds for people.
var reportKinds = map[string]string{
	adminapi.KindStaticToken:  "static token",
	adminapi.KindClientSecret: "client secret",
	adminapi.KindIdPSubject:   "IdP subject",
}
