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

// directoryEdit is a directory's edit form (on the directories list) as
// shown or as typed.
type directoryEdit struct {
	ID, Name, MaxUsers string
	// RateLimit is the directory's own rate ("" = ratelimit.directory_rate),
	// Burst its burst ("" = the rate).
	RateLimit, Burst string
	// Open shows the form unfolded (after a refused submission).
	Open   bool
	Errors fieldErrors
}

// editFormOf is the edit form of d as stored.
func editFormOf(d adminapi.DirectoryJSON) directoryEdit {
	f := directoryEdit{ID: d.ID, Name: d.Name}
	if d.MaxUsers > 0 {
		f.MaxUsers = strconv.FormatInt(d.MaxUsers, 10)
	}
	if d.RateLimit != nil {
		f.RateLimit, f.Burst = d.RateLimit.Rate, strconv.Itoa(d.RateLimit.Burst)
	}
	return f
}

// updateDirectory applies a directory's edit form (name, max users, rate
// limit) through the Service, which audits DIRECTORY_UPDATED. A refused
// value shows the list again with the form open and the field marked.
func (c *Console) updateDirectory(ctx *gin.Context) {
	f := directoryEdit{ID: ctx.Param("id"), Name: strings.TrimSpace(ctx.PostForm("name")),
		MaxUsers: strings.TrimSpace(ctx.PostForm("max_users")), RateLimit: strings.TrimSpace(ctx.PostForm("rate_limit")),
		Burst: strings.TrimSpace(ctx.PostForm("burst")), Open: true}
	refuse := func(errs fieldErrors) {
		f.Errors = errs
		c.renderDirectories(ctx, http.StatusBadRequest, directoriesPage{Edit: &f})
	}
	rctx := ctx.Request.Context()
	cur, err := c.svc.Directory(rctx, f.ID)
	if err != nil {
		c.fail(ctx, err)
		return
	}
	var p adminapi.DirectoryPatch
	if f.Name != cur.Name {
		p.Name = &f.Name
	}
	maxUsers := int64(0)
	if f.MaxUsers != "" {
		if maxUsers, err = strconv.ParseInt(f.MaxUsers, 10, 64); err != nil {
			refuse(fieldErrors{"max_users": "Enter a whole number (0 or empty: no cap)."})
			return
		}
	}
	p.MaxUsers = &maxUsers
	rate := adminapi.RateSpec("default")
	if f.RateLimit != "" {
		rate = adminapi.RateSpec(f.RateLimit)
	}
	p.RateLimit = &rate
	if f.Burst != "" {
		b, err := strconv.Atoi(f.Burst)
		if err != nil {
			refuse(fieldErrors{"burst": "Enter a whole number (empty: the rate)."})
			return
		}
		p.Burst = &b
	}
	if _, err := c.svc.UpdateDirectory(rctx, f.ID, p); err != nil {
		if errors.Is(err, directory.ErrDefault) {
			refuse(fieldErrors{"name": "The default directory cannot be renamed."})
			return
		}
		errs, ok := directoryFormErrors(err)
		if !ok {
			c.fail(ctx, err)
			return
		}
		refuse(errs)
		return
	}
	redirect(ctx, "/directories?notice=updated#dir-"+f.ID)
}
