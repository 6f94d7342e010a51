package adminapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// MountReports registers, on the group Mount set up (which carries the
// admin credential check):
//
//	GET /reports/credentials[?format=csv][&directory=NAME|ID]
//
// JSON by default; CSV with format=csv or Accept: text/csv. directory
// limits the report to one directory's clients.
func MountReports(g *gin.RouterGroup, svc *Service) {
	h := handlers{svc: svc, log: svc.logger()}
	g.GET("/reports/credentials", func(c *gin.Context) {
		r, err := svc.CredentialReportFor(c.Request.Context(), c.Query("directory"))
		if err != nil {
			h.fail(c, err)
			return
		}
		if c.Query("format") == "csv" || strings.Contains(c.GetHeader("Accept"), "text/csv") {
			c.Header("Content-Type", "text/csv; charset=utf-8")
			c.Header("Content-Disposition", `attachment; filename="credentials.csv"`)
			c.Status(http.StatusOK)
			_ = r.WriteCSV(c.Writer) // a write error means the client went away
			return
		}
		c.JSON(http.StatusOK, r)
	})
}
