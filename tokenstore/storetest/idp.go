package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/scimgate/scimgate/tokenstore"
)

const testIssuer = "https://idp.example.com/realms/acme"

func newIdPClient(name, issuer, subject string) tokenstore.Client {
	c := newClient(name)
	c.Method = "idp_jwt"
	c.Issuer, c.Subject, c.Audience = issuer, subject, "scimgate"
	return c
}

func wantIdPClient(t *testing.T, s tokenstore.Store, issuer, subject, wantID string) tokenstore.Client {
	t.Helper()
	c, err := s.LookupIdPClient(context.Background(), issuer, subject)
	if err != nil {
		t.Fatalf("LookupIdPClient(%q, %q): %v", issuer, subject, err)
	}
	if c.ID != wantID {
		t.Fatalf("LookupIdPClient(%q, %q) = client %s, want %s", issuer, subject, c.ID, wantID)
	}
	return c
}

// testIdPIndex: clients are found by (issuer, subject); several clients
// share an issuer; the index follows updates and deletes.
func testIdPIndex(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	a := newIdPClient("kc-a", testIssuer, "sub-a")
	b := newIdPClient("kc-b", testIssuer, "sub-b")
	static := newClient("static")
	static.Issuer, static.Subject = "https://other.example.com", "x" // not idp_jwt: not indexed
	for _, c := range []tokenstore.Client{a, b, static} {
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatalf("CreateClient(%s): %v", c.Name, err)
		}
	}
	got := wantIdPClient(t, s, testIssuer, "sub-a", a.ID)
	if got.Audience != "scimgate" || got.Issuer != testIssuer || got.Subject != "sub-a" {
		t.Fatalf("idp settings not stored: %+v", got)
	}
	wantIdPClient(t, s, testIssuer, "sub-b", b.ID)

	_, err := s.LookupIdPClient(ctx, testIssuer, "sub-c")
	wantErr(t, "unknown subject", err, tokenstore.ErrUnknownSubject)
	_, err = s.LookupIdPClient(ctx, testIssuer, "")
	wantErr(t, "empty subject", err, tokenstore.ErrUnknownSubject)
	_, err = s.LookupIdPClient(ctx, testIssuer+"/", "sub-a")
	wantErr(t, "issuer compared exactly", err, tokenstore.ErrUnknownIssuer)
	_, err = s.LookupIdPClient(ctx, "https://other.example.com", "x")
	wantErr(t, "non-idp client indexed", err, tokenstore.ErrUnknownIssuer)
	if !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatal("ErrUnknownIssuer does not wrap ErrNotFound")
	}

	// A taken (issuer, subject) is refused and reserves nothing.
	dup := newIdPClient("kc-dup", testIssuer, "sub-a")
	wantErr(t, "duplicate subject", s.CreateClient(ctx, dup), tokenstore.ErrSubjectTaken)
	if _, err := s.GetClientByName(ctx, "kc-dup"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("refused create left its name behind: %v", err)
	}
	// The same subject at another issuer is another client.
	other := newIdPClient("kc-other", "https://login.example.org", "sub-a")
	if err := s.CreateClient(ctx, other); err != nil {
		t.Fatal(err)
	}
	wantIdPClient(t, s, "https://login.example.org", "sub-a", other.ID)

	// Disabling keeps the client findable, with Enabled false.
	if _, err := s.UpdateClient(ctx, a.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
		c.Enabled = false
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	if c := wantIdPClient(t, s, testIssuer, "sub-a", a.ID); c.Enabled {
		t.Fatal("disabled client looked up as enabled")
	}

	// Moving a to a taken subject is refused and changes nothing.
	_, err = s.UpdateClient(ctx, a.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
		c.Subject = "sub-b"
		return c, nil
	})
	wantErr(t, "update to taken subject", err, tokenstore.ErrSubjectTaken)
	wantIdPClient(t, s, testIssuer, "sub-a", a.ID)
	wantIdPClient(t, s, testIssuer, "sub-b", b.ID)

	// Moving a to a free subject moves its index entry.
	if _, err := s.UpdateClient(ctx, a.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
		c.Subject = "sub-a2"
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = s.LookupIdPClient(ctx, testIssuer, "sub-a")
	wantErr(t, "old subject after update", err, tokenstore.ErrUnknownSubject)
	wantIdPClient(t, s, testIssuer, "sub-a2", a.ID)

	// Deleting b keeps the issuer trusted through a; changing a's method
	// away from idp_jwt then leaves no client trusting the issuer.
	if err := s.DeleteClient(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.LookupIdPClient(ctx, testIssuer, "sub-b")
	wantErr(t, "deleted client", err, tokenstore.ErrUnknownSubject)
	if _, err := s.UpdateClient(ctx, a.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
		c.Method = "static_token"
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = s.LookupIdPClient(ctx, testIssuer, "sub-a2")
	wantErr(t, "issuer after its last client left", err, tokenstore.ErrUnknownIssuer)

	// The freed pair can be taken again, and deleting frees it.
	again := newIdPClient("kc-again", testIssuer, "sub-b")
	if err := s.CreateClient(ctx, again); err != nil {
		t.Fatalf("freed subject not reusable: %v", err)
	}
	if err := s.DeleteClient(ctx, again.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.LookupIdPClient(ctx, testIssuer, "sub-b")
	wantErr(t, "issuer after delete", err, tokenstore.ErrUnknownIssuer)
}

// testIdPSubjectUniqueUnderConcurrency: of concurrent creations with one
// (issuer, subject) exactly one succeeds.
func testIdPSubjectUniqueUnderConcurrency(t *testing.T, s tokenstore.Store) {
	raceCreate(t, s, 12, tokenstore.ErrSubjectTaken, func(i int) tokenstore.Client {
		return newIdPClient(fmt.Sprintf("racer-%d", i), testIssuer, "same-sub")
	})
}
