package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/scimgate/scimgate/tokenstore"
)

// pageNames walks every page of q and returns the names in order.
func pageNames(t *testing.T, s tokenstore.Store, q tokenstore.ClientQuery) (names []string, pages int) {
	t.Helper()
	for {
		p, err := s.ListClientsPage(context.Background(), q)
		if err != nil {
			t.Fatalf("ListClientsPage(%+v): %v", q, err)
		}
		pages++
		if len(p.Clients) > q.Limit {
			t.Fatalf("page of %d clients, limit %d", len(p.Clients), q.Limit)
		}
		for _, c := range p.Clients {
			names = append(names, c.Name)
		}
		if p.Next == "" {
			return names, pages
		}
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		q.Cursor = p.Next
	}
}

func testClientsPage(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	var all []string
	for i := range 7 {
		n := fmt.Sprintf("Okta-%d", i)
		mustCreateClient(t, s, n)
		all = append(all, n)
	}
	for _, n := range []string{"entra", "Keycloak", "oktaish"} {
		mustCreateClient(t, s, n)
	}
	all = append([]string{"entra", "Keycloak"}, all...)
	all = append(all, "oktaish")

	names, pages := pageNames(t, s, tokenstore.ClientQuery{Limit: 3})
	if !slices.Equal(names, all) || pages != 4 {
		t.Fatalf("all pages = %v in %d pages, want %v in 4", names, pages, all)
	}
	// Prefix search is case-insensitive and keeps the name order.
	names, _ = pageNames(t, s, tokenstore.ClientQuery{Prefix: "OKTA-", Limit: 2})
	if !slices.Equal(names, all[2:9]) {
		t.Fatalf("prefix OKTA- = %v, want %v", names, all[2:9])
	}
	names, _ = pageNames(t, s, tokenstore.ClientQuery{Prefix: "zz", Limit: 2})
	if len(names) != 0 {
		t.Fatalf("prefix zz = %v, want none", names)
	}
	// An exact final page has no next cursor.
	p, err := s.ListClientsPage(ctx, tokenstore.ClientQuery{Prefix: "okta-", Limit: 7})
	if err != nil || len(p.Clients) != 7 || p.Next != "" {
		t.Fatalf("7 of 7 = %d clients, next %q, %v", len(p.Clients), p.Next, err)
	}

	// Renames and deletions move the order with them.
	first, err := s.GetClientByName(ctx, "entra")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateClient(ctx, first.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
		c.Name = "zulu"
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	kc, _ := s.GetClientByName(ctx, "keycloak")
	if err := s.DeleteClient(ctx, kc.ID); err != nil {
		t.Fatal(err)
	}
	names, _ = pageNames(t, s, tokenstore.ClientQuery{Limit: 4})
	want := append(slices.Clone(all[2:]), "zulu")
	if !slices.Equal(names, want) {
		t.Fatalf("after rename and delete = %v, want %v", names, want)
	}

	for _, bad := range []string{"!!!", "%%"} {
		if _, err := s.ListClientsPage(ctx, tokenstore.ClientQuery{Cursor: bad, Limit: 3}); !errors.Is(err, tokenstore.ErrBadCursor) {
			t.Errorf("cursor %q: err = %v, want ErrBadCursor", bad, err)
		}
	}
}
