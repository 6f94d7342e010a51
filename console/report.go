package console

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
)

// credentialsPage is the report page's data: the report, limited to
// Filter's directory when set, and the directory filter's choices.
type credentialsPage struct {
	adminapi.CredentialReport
	Filter      string
	Directories []adminapi.DirectoryJSON
	Error       string
}

// reportPage shows adminapi's credential report: which credentials can
// touch which directory, with what scopes, and when they were last used
// (?directory= limits it to one directory's clients).
func (c *Console) reportPage(ctx *gin.Context) {
	rctx := ctx.Request.Context()
	dirs, err := c.svc.DirectoryChoices(rctx)
	if err != nil {
		c.fail(ctx, err)
		return
	}
	page := credentialsPage{Filter: ctx.Query("directory"), Directories: dirs}
	r, err := c.svc.CredentialReportFor(rctx, page.Filter)
	var fe *adminapi.FieldError
	switch {
	case errors.As(err, &fe):
		page.Error = fe.Msg
		c.render(ctx, http.StatusBadRequest, "report", "Credential report", page)
		return
	case err != nil:
		c.fail(ctx, err)
		return
	}
	page.CredentialReport = r
	c.render(ctx, http.StatusOK, "report", "Credential report", page)
}

// reportCSV downloads the same report as CSV (adminapi's columns).
func (c *Console) reportCSV(ctx *gin.Context) {
	r, err := c.svc.CredentialReportFor(ctx.Request.Context(), ctx.Query("directory"))
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
