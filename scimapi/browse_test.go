package scimapi_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/redistest"
	"github.com/scimgate/scimgate/scimapi"
	"github.com/scimgate/scimgate/scimapi/schema"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/scimapi/store"
)

// TestListAndGetForReaders: the read-only List and Get used by the admin
// console run the SCIM query code: max_results caps count, the index
// planner serves equality, the scan budget refuses a scan over it
// (400 tooMany), a bad filter is 400 invalidFilter, and only the
// resolver's directories exist.
func TestListAndGetForReaders(t *testing.T) {
	r := redistest.Mini(t)
	st := store.NewRedis(r.Client, r.Prefix)
	h := scimapi.New(schema.NewRegistry(), scimapi.Single(st), scimapi.Options{MaxResults: 3, ScanRows: 5})
	ctx := t.Context()
	var ids []string
	for i := range 8 {
		u, err := st.Create(ctx, store.TypeUser, map[string]any{"userName": fmt.Sprintf("u%d", i)}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	g, err := st.Create(ctx, store.TypeGroup, map[string]any{"displayName": "g"}, []store.Member{{Value: ids[0], Type: store.TypeUser}}, nil)
	if err != nil {
		t.Fatal(err)
	}

	pg, err := h.List(ctx, "", store.TypeUser, "", 7, 10)
	if err != nil || pg.Total != 8 || len(pg.Resources) != 2 {
		t.Fatalf("unfiltered page from 7: %+v %v", pg, err)
	}
	if pg, err = h.List(ctx, "", store.TypeUser, "", 1, 10); err != nil || len(pg.Resources) != 3 {
		t.Fatalf("count is not capped at max_results: %d %v", len(pg.Resources), err)
	}
	// Equality on an indexed attribute reads the index, not a scan.
	if pg, err = h.List(ctx, "", store.TypeUser, `userName eq "U3"`, 1, 10); err != nil || pg.Total != 1 || pg.Resources[0].ID != ids[3] {
		t.Fatalf("indexed equality: %+v %v", pg, err)
	}
	var se *scimerr.Error
	if _, err = h.List(ctx, "", store.TypeUser, `userName sw "u"`, 1, 10); !errors.As(err, &se) || se.Status != 400 || se.ScimType != scimerr.TooMany {
		t.Fatalf("scan over the budget: %v", err)
	}
	if _, err = h.List(ctx, "", store.TypeUser, `userName sw`, 1, 10); !errors.As(err, &se) || se.ScimType != scimerr.InvalidFilter {
		t.Fatalf("bad filter: %v", err)
	}
	if _, err = h.List(ctx, "other", store.TypeUser, "", 1, 10); !errors.Is(err, store.ErrNoDirectory) {
		t.Fatalf("unknown directory: %v", err)
	}

	u, err := h.Get(ctx, "", store.TypeUser, ids[0])
	if err != nil || len(u.Groups) != 1 || u.Groups[0].Value != g.ID {
		t.Fatalf("user with groups: %+v %v", u, err)
	}
	if gr, err := h.Get(ctx, "", store.TypeGroup, g.ID); err != nil || len(gr.Members) != 1 {
		t.Fatalf("group with members: %+v %v", gr, err)
	}
	if _, err := h.Get(ctx, "", store.TypeGroup, ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a user id as a group: %v", err)
	}
	if _, err := h.Get(ctx, "", "Widget", ids[0]); err == nil {
		t.Fatal("unknown resource type accepted")
	}
}
