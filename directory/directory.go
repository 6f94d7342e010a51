// Package directory keeps directories: isolated sets of SCIM Users and
// Groups, one per customer. Every SCIM client belongs to exactly one
// directory (tokenstore.Client.DirectoryID); its requests read and write
// that directory's resource store only (Backends).
//
// # Redis key layout
//
// The registry lives beside the clients, in the {auth} slot, so creating a
// client checks its directory atomically (tokenstore.DirectoryKey):
//
//	<prefix>{auth}:dir:<id>     HASH  data (Directory JSON), lname (lower-cased
//	                                  name), deleting ("1" while a deletion runs)
//	<prefix>{auth}:dir-names    HASH  lower-cased name -> id
//
// A directory's resources, audit and change-event streams carry the hash
// tag Tag(id): {d:<id>}, so each directory is one Cluster slot and
// different directories spread over the masters. The default directory
// always exists, needs no record (one is kept only when its settings are
// changed) and keeps the {scim} tag of the releases before directories.
package directory

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/scimgate/scimgate/scimapi/store"
	"github.com/scimgate/scimgate/tokenstore"
)

// DefaultID is the id and the name of the built-in directory.
const DefaultID = tokenstore.DefaultDirectory

// Backend kinds.
const (
	// BackendStored keeps the directory's resources in Redis (package
	// scimapi/store).
	BackendStored = "stored"
)

// Errors.
var (
	ErrNotFound      = errors.New("directory: not found")
	ErrAlreadyExists = errors.New("directory: already exists")
	// ErrDefault refuses to delete or rename the default directory.
	ErrDefault = errors.New("directory: the default directory cannot be deleted or renamed")
	// ErrNotEmpty refuses to delete a directory that holds clients or data
	// without force.
	ErrNotEmpty = errors.New("directory: holds clients or data")
)

// Directory is a named, isolated set of Users and Groups.
type Directory struct {
	// ID is a UUID, or DefaultID.
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// MaxUsers caps the directory's Users (0: no cap). A POST /Users past
	// it is refused with 403.
	MaxUsers int64 `json:"max_users,omitempty"`
	// RateLimit limits the SCIM requests of all the directory's clients
	// together, in addition to each client's limit (package ratelimit);
	// nil: the configured ratelimit.directory_rate.
	RateLimit *tokenstore.RateLimit `json:"rate_limit,omitempty"`
	// Backend is where the directory's resources live: BackendStored or
	// BackendUpstream (then Upstream is set).
	Backend  string    `json:"backend"`
	Upstream *Upstream `json:"upstream,omitempty"`
	// Deleting is set while a deletion runs: the directory serves no
	// requests and takes no new clients.
	Deleting bool `json:"deleting,omitempty"`
}

// Default returns the built-in directory's implicit record.
func Default() Directory {
	return Directory{ID: DefaultID, Name: DefaultID, Backend: BackendStored}
}

// Tag returns the hash tag (without braces) of directory id's keys:
// store.DefaultTag for the default directory, "d:<id>" for the others.
func Tag(id string) string {
	if id == DefaultID || id == "" {
		return store.DefaultTag
	}
	return "d:" + id
}

// ValidID reports whether id can name a directory: DefaultID or a
// canonical lower-case UUID (ids are embedded in key names).
func ValidID(id string) bool {
	if id == DefaultID {
		return true
	}
	u, err := uuid.Parse(id)
	return err == nil && len(id) == 36 && u.String() == id
}

// ValidateName checks a directory name: 1 to 64 ASCII letters, digits,
// '.', '_' and '-', starting with a letter or digit, not a UUID (names and
// ids are both accepted where a directory is named), the same rules as
// client names.
func ValidateName(s string) error {
	if s == "" || len(s) > 64 {
		return errors.New("must be 1 to 64 characters")
	}
	for i, r := range s {
		ok := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || (i > 0 && strings.ContainsRune("._-", r)))
		if !ok {
			return fmt.Errorf("%q may hold only letters, digits, '.', '_' and '-', starting with a letter or digit", s)
		}
	}
	if _, err := uuid.Parse(s); err == nil {
		return errors.New("must not look like a directory id")
	}
	return nil
}
