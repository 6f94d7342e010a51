package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/config"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/redisconn"
	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestDirectoryStoresGetSCIMIndexes: every directory's store serves the
// optional indexes scim.indexes names, and only those.
func TestDirectoryStoresGetSCIMIndexes(t *testing.T) {
	conn := &redisconn.Conn{Client: redistest.Mini(t).Client}
	for _, c := range []struct {
		indexes string
		want    []string
	}{
		{"", []string{"id", "userName", "externalId"}},
		{"name.familyName, emails.value", []string{"id", "userName", "externalId", "emails.value", "name.familyName"}},
	} {
		cfg := config.Default()
		cfg.SCIM.Indexes = c.indexes
		for _, id := range []string{directory.DefaultID, "6f1c0f3e-5a8e-4b8e-9d5e-1f2a3b4c5d6e"} {
			if got := newDirectoryStore(conn, cfg, id, nil, nil).Indexed(store.TypeUser); !slices.Equal(got, c.want) {
				t.Errorf("scim.indexes %q, directory %s: Indexed(User) = %v, want %v", c.indexes, id, got, c.want)
			}
		}
	}
}

// TestDirectoryStoresGetCompactResources: every directory's store writes
// compact resources unless scim.compact_resources is off, and its documents
// in keys of their own unless scim.document_keys is off.
func TestDirectoryStoresGetCompactResources(t *testing.T) {
	r := redistest.Mini(t)
	conn := &redisconn.Conn{Client: r.Client}
	for _, compact := range []bool{true, false} {
		for _, keys := range []bool{true, false} {
			cfg := config.Default()
			cfg.SCIM.CompactResources = compact
			cfg.SCIM.DocumentKeys = keys
			for _, id := range []string{directory.DefaultID, "6f1c0f3e-5a8e-4b8e-9d5e-1f2a3b4c5d6e"} {
				st := newDirectoryStore(conn, cfg, id, nil, nil)
				u, err := st.Create(t.Context(), store.TypeUser, map[string]any{"userName": fmt.Sprintf("u-%v-%v", compact, keys),
					"title": strings.Repeat("a long title ", 10)}, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				doc, err := r.Client.HGet(t.Context(), st.KeyBase()+"r:"+u.ID, "doc").Result()
				if keys {
					doc, err = r.Client.Get(t.Context(), st.KeyBase()+"d:"+u.ID).Result()
				}
				if err != nil || strings.Contains(doc, "\x01") != compact {
					t.Errorf("scim.compact_resources %v, scim.document_keys %v, directory %s: stored %q (%v)", compact, keys, id, doc, err)
				}
			}
		}
	}
}
