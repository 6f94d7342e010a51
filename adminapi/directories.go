package adminapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/tokenstore"
)

// directories is what the Service needs to manage directories.
type directories struct {
	reg    *directory.Registry
	rdb    redis.UniversalClient
	prefix string
	// forget drops a resolver's cached view of a changed directory (nil:
	// none).
	forget func(id string)
}

// SetDirectories lets the Service manage directories in reg, whose data
// lives in rdb under prefix. forget, if set, is told of every directory
// changed or deleted (directory.Backends.Forget). Without this call only
// the default directory exists.
func (s *Service) SetDirectories(reg *directory.Registry, rdb redis.UniversalClient, prefix string, forget func(id string)) {
	s.dirs = &directories{reg: reg, rdb: rdb, prefix: prefix, forget: forget}
}

var errNoDirectories = errors.New("directories are not enabled")

// clientDirectory returns the id to store for a new client's directory
// ref ("" for the default directory, as in records written before
// directories). The store checks again, atomically, that it exists.
func (s *Service) clientDirectory(ctx context.Context, ref string) (string, error) {
	if ref == "" || ref == directory.DefaultID {
		return "", nil
	}
	if s.dirs == nil {
		return "", fieldErr("directory", "%v", errNoDirectories)
	}
	d, err := s.dirs.reg.Resolve(ctx, ref)
	if errors.Is(err, directory.ErrNotFound) || (err == nil && d.Deleting) {
		return "", fieldErr("directory", "no directory %q", ref)
	}
	if err != nil || d.ID == directory.DefaultID {
		return "", err
	}
	return d.ID, nil
}

// DirectorySpec is a directory to create.
type DirectorySpec struct {
	Name string `json:"name"`
	// MaxUsers caps the directory's Users (0 or absent: no cap).
	MaxUsers int64 `json:"max_users"`
	// RateLimit and Burst limit the SCIM requests of all the directory's
	// clients together (absent: ratelimit.directory_rate).
	RateLimit *RateSpec `json:"rate_limit"`
	Burst     *int      `json:"burst"`
	// Backend is "stored" (default) or "upstream" (then Upstream is
	// required).
	Backend  string        `json:"backend"`
	Upstream *UpstreamSpec `json:"upstream"`
}

// DirectoryPatch changes the fields that are set.
type DirectoryPatch struct {
	Name     *string       `json:"name"`
	MaxUsers *int64        `json:"max_users"`
	Backend  *string       `json:"backend"`
	Upstream *UpstreamSpec `json:"upstream"`

	// RateLimit "default" returns the directory to
	// ratelimit.directory_rate; a Burst alone changes the burst of the
	// directory's own limit.
	RateLimit *RateSpec `json:"rate_limit"`
	Burst     *int      `json:"burst"`
}

// DirectoryJSON is a directory as the API and `-o json` show it, with its
// counts.
type DirectoryJSON struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Backend   string        `json:"backend"`
	Upstream  *UpstreamJSON `json:"upstream,omitempty"`
	MaxUsers  int64         `json:"max_users,omitempty"`
	CreatedAt time.Time     `json:"created_at,omitzero"`
	UpdatedAt time.Time     `json:"updated_at,omitzero"`
	Deleting  bool          `json:"deleting,omitempty"`
	Users     int64         `json:"users"`
	Groups    int64         `json:"groups"`
	Clients   int           `json:"clients"`

	// RateLimit is the directory's own limit (absent: the configured
	// ratelimit.directory_rate).
	RateLimit *RateLimitJSON `json:"rate_limit,omitempty"`
}

// DirectoryDeletion reports what deleting a directory removed.
type DirectoryDeletion struct {
	Directory DirectoryJSON `json:"directory"`
	// Clients, Users and Groups are the counts found when it was deleted;
	// Keys is the number of Redis keys removed.
	Clients int   `json:"clients_deleted"`
	Users   int64 `json:"users_deleted"`
	Groups  int64 `json:"groups_deleted"`
	Keys    int64 `json:"keys_deleted"`
}

// NotEmptyError refuses to delete a directory holding clients or data
// without force.
type NotEmptyError struct{ Counts DirectoryJSON }

func (e *NotEmptyError) Error() string {
	return fmt.Sprintf("directory %s holds %d clients, %d users and %d groups: delete them first or force the deletion",
		e.Counts.Name, e.Counts.Clients, e.Counts.Users, e.Counts.Groups)
}

func (e *NotEmptyError) Unwrap() error { return directory.ErrNotEmpty }

func validMaxUsers(n int64) error {
	if n < 0 {
		return fieldErr("max_users", "must be 0 (no cap) or more")
	}
	return nil
}

// CreateDirectory validates spec and stores a new directory.
func (s *Service) CreateDirectory(ctx context.Context, spec DirectorySpec) (DirectoryJSON, error) {
	if s.dirs == nil {
		return DirectoryJSON{}, errNoDirectories
	}
	if err := directory.ValidateName(spec.Name); err != nil {
		return DirectoryJSON{}, fieldErr("name", "%v", err)
	}
	if err := validMaxUsers(spec.MaxUsers); err != nil {
		return DirectoryJSON{}, err
	}
	now := s.now().UTC()
	d := directory.Directory{Name: spec.Name, MaxUsers: spec.MaxUsers, CreatedAt: now, UpdatedAt: now, Backend: directory.BackendStored}
	if _, err := applyDirectoryRateLimit(&d, spec.RateLimit, spec.Burst); err != nil {
		return DirectoryJSON{}, err
	}
	backend := spec.Backend
	if backend == "" && spec.Upstream != nil {
		backend = directory.BackendUpstream
	}
	if _, err := s.applyBackend(&d, backend, spec.Upstream); err != nil {
		return DirectoryJSON{}, err
	}
	d, err := s.dirs.reg.Create(ctx, d)
	if err != nil {
		return DirectoryJSON{}, err
	}
	s.record(ctx, audit.DirectoryCreated, directoryTarget(d), nil)
	return toDirectoryJSON(d), nil
}

// Directory returns the directory named by ref (id or name) with its
// counts.
func (s *Service) Directory(ctx context.Context, ref string) (DirectoryJSON, error) {
	d, err := s.resolveDirectory(ctx, ref)
	if err != nil {
		return DirectoryJSON{}, err
	}
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return DirectoryJSON{}, err
	}
	return s.withCounts(ctx, d, cs)
}

// ListDirectories returns every directory (the default one first) with
// its counts.
func (s *Service) ListDirectories(ctx context.Context) ([]DirectoryJSON, error) {
	ds, err := s.directoryRecords(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DirectoryJSON, 0, len(ds))
	for _, d := range ds {
		j, err := s.withCounts(ctx, d, cs)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// DirectoryChoices returns every directory (the default one first)
// without counts: the registry's records only, cheap enough for a form's
// picker or a name lookup.
func (s *Service) DirectoryChoices(ctx context.Context) ([]DirectoryJSON, error) {
	ds, err := s.directoryRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DirectoryJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, toDirectoryJSON(d))
	}
	return out, nil
}

func (s *Service) directoryRecords(ctx context.Context) ([]directory.Directory, error) {
	if s.dirs == nil {
		return []directory.Directory{directory.Default()}, nil
	}
	return s.dirs.reg.List(ctx)
}

// LastWriteScan bounds how many of the newest audit entries
// DirectoryLastWrite reads. A directory's own stream holds only its SCIM
// writes, so its newest entry answers; the default directory's stream
// also holds admin and credential events, which are skipped.
const LastWriteScan = 1000

// DirectoryLastWrite returns the newest SCIM write (a SCIM_* audit event)
// of the directory named by ref among the LastWriteScan newest entries of
// its audit stream; ok is false when there is none.
func (s *Service) DirectoryLastWrite(ctx context.Context, ref string) (e audit.Event, ok bool, err error) {
	l, err := s.DirectoryAudit(ctx, ref)
	if err != nil {
		return audit.Event{}, false, err
	}
	return l.Newest(ctx, LastWriteScan, func(e audit.Event) bool { return strings.HasPrefix(e.Action, "SCIM_") })
}

// UpdateDirectory applies p to the directory named by ref. The default
// directory's name cannot change.
func (s *Service) UpdateDirectory(ctx context.Context, ref string, p DirectoryPatch) (DirectoryJSON, error) {
	if p.Name != nil {
		if err := directory.ValidateName(*p.Name); err != nil {
			return DirectoryJSON{}, fieldErr("name", "%v", err)
		}
	}
	if p.MaxUsers != nil {
		if err := validMaxUsers(*p.MaxUsers); err != nil {
			return DirectoryJSON{}, err
		}
	}
	if err := checkRateLimitFields(dirRateFields(p.RateLimit), p.Burst); err != nil {
		return DirectoryJSON{}, err
	}
	d, err := s.resolveDirectory(ctx, ref)
	if err != nil {
		return DirectoryJSON{}, err
	}
	now := s.now().UTC()
	var changed []string
	d, err = s.dirs.reg.Update(ctx, d.ID, func(d directory.Directory) (directory.Directory, error) {
		changed = changed[:0]
		if p.Name != nil && *p.Name != d.Name {
			d.Name = *p.Name
			changed = append(changed, "name")
		}
		if p.MaxUsers != nil && *p.MaxUsers != d.MaxUsers {
			d.MaxUsers = *p.MaxUsers
			changed = append(changed, "max_users")
		}
		if ch, err := applyDirectoryRateLimit(&d, p.RateLimit, p.Burst); err != nil {
			return d, err
		} else if ch {
			changed = append(changed, "rate_limit")
		}
		backend := ""
		if p.Backend != nil {
			backend = *p.Backend
		}
		more, err := s.applyBackend(&d, backend, p.Upstream)
		if err != nil {
			return d, err
		}
		changed = append(changed, more...)
		d.UpdatedAt = now
		return d, nil
	})
	if err != nil {
		return DirectoryJSON{}, err
	}
	s.forgetDirectory(d.ID)
	s.record(ctx, audit.DirectoryUpdated, directoryTarget(d), changed)
	return s.Directory(ctx, d.ID)
}

// DeleteDirectory deletes the directory named by ref. The default
// directory cannot be deleted (directory.ErrDefault). A directory holding
// clients, users or groups is refused with *NotEmptyError unless force,
// which deletes its clients (and their tokens) and all its data.
//
// The directory is first marked as being deleted: from then on it serves
// no SCIM request (within the resolver's cache TTL on every replica) and
// takes no new client (checked atomically by the client store), so a
// client created concurrently cannot be left behind. Its keys are then
// removed in bounded steps (directory.Purge) and its record last, so a
// deletion cut short shows as "deleting" and can be run again.
func (s *Service) DeleteDirectory(ctx context.Context, ref string, force bool) (DirectoryDeletion, error) {
	d, err := s.resolveDirectory(ctx, ref)
	if err != nil {
		return DirectoryDeletion{}, err
	}
	if d.ID == directory.DefaultID {
		return DirectoryDeletion{}, directory.ErrDefault
	}
	setDeleting := func(on bool) error {
		_, err := s.dirs.reg.Update(ctx, d.ID, func(d directory.Directory) (directory.Directory, error) {
			d.Deleting = on
			return d, nil
		})
		s.forgetDirectory(d.ID)
		return err
	}
	wasDeleting := d.Deleting
	if err := setDeleting(true); err != nil {
		return DirectoryDeletion{}, err
	}
	d.Deleting = true
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return DirectoryDeletion{}, err
	}
	counts, err := s.withCounts(ctx, d, cs)
	if err != nil {
		return DirectoryDeletion{}, err
	}
	if !force && (counts.Clients > 0 || counts.Users > 0 || counts.Groups > 0) {
		if !wasDeleting {
			if err := setDeleting(false); err != nil {
				return DirectoryDeletion{}, err
			}
		}
		counts.Deleting = wasDeleting
		return DirectoryDeletion{}, &NotEmptyError{Counts: counts}
	}
	rep := DirectoryDeletion{Directory: counts, Clients: counts.Clients, Users: counts.Users, Groups: counts.Groups}
	for _, c := range cs {
		if c.Directory() != d.ID {
			continue
		}
		if err := s.store.DeleteClient(ctx, c.ID); err != nil && !errors.Is(err, tokenstore.ErrNotFound) {
			return rep, fmt.Errorf("delete client %s of directory %s: %w", c.Name, d.Name, err)
		}
		s.record(ctx, audit.ClientDeleted, clientTarget(c), nil)
	}
	if rep.Keys, err = directory.Purge(ctx, s.dirs.rdb, s.dirs.prefix, d.ID); err != nil {
		return rep, err
	}
	if err := s.dirs.reg.Remove(ctx, d.ID); err != nil && !errors.Is(err, directory.ErrNotFound) {
		return rep, err
	}
	s.forgetDirectory(d.ID)
	s.recordReason(ctx, audit.DirectoryDeleted, directoryTarget(d), fmt.Sprintf("force=%t clients=%d users=%d groups=%d keys=%d",
		force, rep.Clients, rep.Users, rep.Groups, rep.Keys))
	return rep, nil
}

// DirectoryAudit returns the audit log of the directory named by ref (id
// or name): its SCIM writes. The default directory's log also holds the
// admin and credential events.
func (s *Service) DirectoryAudit(ctx context.Context, ref string) (*audit.Log, error) {
	if s.events == nil {
		return nil, errors.New("no audit log configured")
	}
	d, err := s.resolveDirectory(ctx, ref)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if s.dirs != nil {
		prefix = s.dirs.prefix
	}
	if d.ID == directory.DefaultID {
		return s.events, nil
	}
	return s.events.ForTag(prefix, directory.Tag(d.ID)), nil
}

func (s *Service) resolveDirectory(ctx context.Context, ref string) (directory.Directory, error) {
	if s.dirs == nil {
		if ref == directory.DefaultID {
			return directory.Default(), nil
		}
		return directory.Directory{}, fmt.Errorf("directory %q: %w", ref, directory.ErrNotFound)
	}
	return s.dirs.reg.Resolve(ctx, ref)
}

func (s *Service) forgetDirectory(id string) {
	if s.dirs != nil && s.dirs.forget != nil {
		s.dirs.forget(id)
	}
}

// withCounts adds d's user, group and client counts (clients from cs).
func (s *Service) withCounts(ctx context.Context, d directory.Directory, cs []tokenstore.Client) (DirectoryJSON, error) {
	j := toDirectoryJSON(d)
	for _, c := range cs {
		if c.Directory() == d.ID {
			j.Clients++
		}
	}
	if s.dirs == nil {
		return j, nil
	}
	st := store.NewRedisTagged(s.dirs.rdb, s.dirs.prefix, directory.Tag(d.ID))
	var err error
	if j.Users, err = st.Count(ctx, store.TypeUser); err != nil {
		return j, err
	}
	if j.Groups, err = st.Count(ctx, store.TypeGroup); err != nil {
		return j, err
	}
	return j, nil
}

func toDirectoryJSON(d directory.Directory) DirectoryJSON {
	return DirectoryJSON{ID: d.ID, Name: d.Name, Backend: d.Backend, Upstream: toUpstreamJSON(d.Upstream), MaxUsers: d.MaxUsers,
		RateLimit: ToRateLimitJSON(d.RateLimit), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, Deleting: d.Deleting}
}

func directoryTarget(d directory.Directory) audit.Target {
	return audit.Target{Type: "Directory", ID: d.ID, Name: d.Name}
}

// MountDirectories registers, on the group Mount set up:
//
//	GET, POST               /directories
//	GET, PATCH, DELETE      /directories/{id}    (DELETE ?force=true deletes clients and data)
//
// {id} is a directory id or name.
func MountDirectories(g *gin.RouterGroup, svc *Service, h handlers) {
	g.GET("/directories", func(c *gin.Context) {
		ds, err := svc.ListDirectories(c.Request.Context())
		if err != nil {
			h.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{"directories": ds})
	})
	g.POST("/directories", func(c *gin.Context) {
		var spec DirectorySpec
		if err := decode(c, &spec); err != nil {
			h.fail(c, err)
			return
		}
		d, err := svc.CreateDirectory(c.Request.Context(), spec)
		if err != nil {
			h.fail(c, err)
			return
		}
		c.Header("Location", fmt.Sprintf("%s/directories/%s", Prefix, d.ID))
		c.JSON(http.StatusCreated, d)
	})
	g.GET("/directories/:id", func(c *gin.Context) {
		d, err := svc.Directory(c.Request.Context(), c.Param("id"))
		if err != nil {
			h.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, d)
	})
	g.PATCH("/directories/:id", func(c *gin.Context) {
		var p DirectoryPatch
		if err := decode(c, &p); err != nil {
			h.fail(c, err)
			return
		}
		d, err := svc.UpdateDirectory(c.Request.Context(), c.Param("id"), p)
		if err != nil {
			h.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, d)
	})
	g.DELETE("/directories/:id", func(c *gin.Context) {
		force := c.Query("force") == "true"
		rep, err := svc.DeleteDirectory(c.Request.Context(), c.Param("id"), force)
		if err != nil {
			h.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, rep)
	})
}

// failDirectory maps the directory errors; it reports whether it answered.
func failDirectory(c *gin.Context, err error) bool {
	var ne *NotEmptyError
	switch {
	case errors.As(err, &ne):
		c.JSON(http.StatusConflict, gin.H{"error": ne.Error(), "clients": ne.Counts.Clients, "users": ne.Counts.Users, "groups": ne.Counts.Groups})
	case errors.Is(err, directory.ErrDefault):
		c.JSON(http.StatusConflict, errorBody{Error: err.Error()})
	case errors.Is(err, directory.ErrNotFound):
		c.JSON(http.StatusNotFound, errorBody{Error: "not found"})
	case errors.Is(err, directory.ErrAlreadyExists):
		c.JSON(http.StatusConflict, errorBody{Error: "a directory with that name already exists", Field: "name"})
	case errors.Is(err, errNoDirectories):
		c.JSON(http.StatusNotFound, errorBody{Error: err.Error()})
	case errors.Is(err, tokenstore.ErrNoDirectory):
		c.JSON(http.StatusBadRequest, errorBody{Error: "the directory does not exist or is being deleted", Field: "directory"})
	default:
		return false
	}
	return true
}
