package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/directory"
)

// directoryRow is one line of the directories list.
type directoryRow struct {
	adminapi.DirectoryJSON
	// LastWrite is the time of the newest SCIM write found (zero: none
	// among adminapi.LastWriteScan newest audit entries).
	LastWrite time.Time
	// Edit is the row's edit form (directory_edit.go).
	Edit directoryEdit
}

// directoryForm is the "+ Directory" form as typed.
type directoryForm struct {
	Name, MaxUsers string
	Errors         fieldErrors
}

// directoriesPage is the data of the directories list.
type directoriesPage struct {
	Directories []directoryRow
	Form        directoryForm
	// Deleted reports a deletion just done.
	Deleted *adminapi.DirectoryDeletion
	// Scan is adminapi.LastWriteScan, for the column's hint.
	Scan int
	// Edit is a refused edit form, shown again on its row.
	Edit *directoryEdit
}

func (c *Console) listDirectories(ctx *gin.Context) {
	c.renderDirectories(ctx, http.StatusOK, directoriesPage{})
}

// renderDirectories shows the list (with counts and last SCIM write of
// each directory) around page's form and deletion report.
func (c *Console) renderDirectories(ctx *gin.Context, status int, page directoriesPage) {
	rctx := ctx.Request.Context()
	ds, err := c.svc.ListDirectories(rctx)
	if err != nil {
		c.fail(ctx, err)
		return
	}
	for _, d := range ds {
		row := directoryRow{DirectoryJSON: d, Edit: editFormOf(d)}
		if page.Edit != nil && page.Edit.ID == d.ID {
			row.Edit = *page.Edit
		}
		e, ok, err := c.svc.DirectoryLastWrite(rctx, d.ID)
		switch {
		case errors.Is(err, directory.ErrNotFound):
			// Removed since the list was read.
			continue
		case err != nil:
			c.fail(ctx, err)
			return
		case ok:
			row.LastWrite = e.Time
		}
		page.Directories = append(page.Directories, row)
	}
	page.Scan = adminapi.LastWriteScan
	c.render(ctx, status, "directories", "Directories", page)
}

// createDirectory creates a directory from the list page's form.
func (c *Console) createDirectory(ctx *gin.Context) {
	f := directoryForm{Name: strings.TrimSpace(ctx.PostForm("name")), MaxUsers: strings.TrimSpace(ctx.PostForm("max_users"))}
	spec := adminapi.DirectorySpec{Name: f.Name}
	if f.MaxUsers != "" {
		n, err := strconv.ParseInt(f.MaxUsers, 10, 64)
		if err != nil {
			f.Errors = fieldErrors{"max_users": "Enter a whole number (0 or empty: no cap)."}
			c.renderDirectories(ctx, http.StatusBadRequest, directoriesPage{Form: f})
			return
		}
		spec.MaxUsers = n
	}
	d, err := c.svc.CreateDirectory(ctx.Request.Context(), spec)
	if err != nil {
		errs, ok := directoryFormErrors(err)
		if !ok {
			c.fail(ctx, err)
			return
		}
		f.Errors = errs
		c.renderDirectories(ctx, http.StatusBadRequest, directoriesPage{Form: f})
		return
	}
	redirect(ctx, "/directories?notice=dircreated#dir-"+d.ID)
}

// directoryFormErrors turns a refusal of the Service into messages on the
// directory form's fields; ok is false for errors that are not the
// user's input.
func directoryFormErrors(err error) (fieldErrors, bool) {
	if errors.Is(err, directory.ErrAlreadyExists) {
		return fieldErrors{"name": "a directory with that name already exists"}, true
	}
	return formErrors(err)
}

// deletePage is the data of a directory's delete confirmation.
type deletePage struct {
	Directory adminapi.DirectoryJSON
	// Refused is set when a deletion without force found clients or data.
	Refused bool
	Error   string
}

func (c *Console) confirmDeleteDirectory(ctx *gin.Context) {
	d, err := c.svc.Directory(ctx.Request.Context(), ctx.Param("id"))
	if err != nil {
		c.fail(ctx, err)
		return
	}
	page := deletePage{Directory: d}
	if d.ID == directory.DefaultID {
		page.Error = "The default directory cannot be deleted."
	}
	c.render(ctx, http.StatusOK, "directory_delete", "Delete directory "+d.Name, page)
}

// deleteDirectory deletes a directory; without the force box ticked the
// Service refuses one holding clients or data, and the confirmation is
// shown again with its counts.
func (c *Console) deleteDirectory(ctx *gin.Context) {
	rctx := ctx.Request.Context()
	force := ctx.PostForm("force") == "on"
	rep, err := c.svc.DeleteDirectory(rctx, ctx.Param("id"), force)
	var ne *adminapi.NotEmptyError
	switch {
	case err == nil:
		c.renderDirectories(ctx, http.StatusOK, directoriesPage{Deleted: &rep})
	case errors.As(err, &ne):
		c.render(ctx, http.StatusConflict, "directory_delete", "Delete directory "+ne.Counts.Name,
			deletePage{Directory: ne.Counts, Refused: true})
	case errors.Is(err, directory.ErrDefault):
		d, _ := c.svc.Directory(rctx, directory.DefaultID)
		c.render(ctx, http.StatusConflict, "directory_delete", "Delete directory "+d.Name,
			deletePage{Directory: d, Error: "The default directory cannot be deleted."})
	default:
		c.fail(ctx, err)
	}
}

// directoryNames maps directory ids to names, for the client pages.
func (c *Console) directoryNames(ctx *gin.Context) (map[string]string, error) {
	return c.svc.DirectoryNames(ctx.Request.Context())
}
