// Package storetest is the conformance suite of tokenstore.Store. Each
// backend's test calls Run with a constructor returning an empty store.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimgate/scimgate/tokenstore"
)

// Run runs every conformance test; newStore must return an empty store
// each time it is called. Stores are built with the default touch interval.
func Run(t *testing.T, newStore func(t *testing.T) tokenstore.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s tokenstore.Store)
	}{
		{"ClientCRUD", testClientCRUD},
		{"ClientNameUniqueUnderConcurrency", testConcurrentCreate},
		{"UpdateClientIsCompareAndSwap", testConcurrentUpdate},
		{"TokenCRUD", testTokenCRUD},
		{"LookupRefusals", testLookupRefusals},
		{"LookupAllowList", testLookupAllowList},
		{"LookupTouchesAtMostOncePerInterval", testTouch},
		{"DeleteClientDeletesTokens", testDeleteClient},
		{"IdPIndex", testIdPIndex},
		{"IdPSubjectUniqueUnderConcurrency", testIdPSubjectUniqueUnderConcurrency},
		{"MalformedClientIDsNotFound", testMalformedClientIDs},
		{"ClientsPage", testClientsPage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func newClient(name string) tokenstore.Client {
	return tokenstore.Client{ID: uuid.NewString(), Name: name, Method: "static_token", Enabled: true, CreatedAt: t0, UpdatedAt: t0}
}

func newToken(clientID string) tokenstore.Token {
	return tokenstore.Token{ID: randHex(8), ClientID: clientID, Name: "t", Scopes: []string{"scim_v2"},
		CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func mustCreateClient(t *testing.T, s tokenstore.Store, name string) tokenstore.Client {
	t.Helper()
	c := newClient(name)
	if err := s.CreateClient(context.Background(), c); err != nil {
		t.Fatalf("CreateClient(%s): %v", name, err)
	}
	return c
}

func mustCreateToken(t *testing.T, s tokenstore.Store, tok tokenstore.Token) string {
	t.Helper()
	hash := randHex(32)
	if err := s.CreateToken(context.Background(), tok, hash); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return hash
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

// testMalformedClientIDs: ids that are not what scimgate generates (a
// UUID), e.g. "<id>:tokens" naming another key of the client, are simply
// not found, never a store error.
func testMalformedClientIDs(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	c := mustCreateClient(t, s, "victim")
	mustCreateToken(t, s, newToken(c.ID))
	for _, id := range []string{c.ID + ":tokens", "{" + c.ID + "}", "urn:uuid:" + c.ID, strings.ToUpper(c.ID), "x"} {
		_, err := s.GetClient(ctx, id)
		wantErr(t, "GetClient("+id+")", err, tokenstore.ErrNotFound)
		_, err = s.ListTokens(ctx, id)
		wantErr(t, "ListTokens("+id+")", err, tokenstore.ErrNotFound)
		if ats, ok := s.(tokenstore.AccessTokenState); ok {
			_, err = ats.CheckAccessToken(ctx, id, "jti")
			wantErr(t, "CheckAccessToken("+id+")", err, tokenstore.ErrNotFound)
		}
		wantErr(t, "DeleteClient("+id+")", s.DeleteClient(ctx, id), tokenstore.ErrNotFound)
	}
	if _, err := s.GetClient(ctx, c.ID); err != nil {
		t.Fatalf("the real client: %v", err)
	}
}

func testClientCRUD(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	a := mustCreateClient(t, s, "Okta")
	got, err := s.GetClient(ctx, a.ID)
	if err != nil || got.Name != "Okta" || !got.Enabled || !got.CreatedAt.Equal(t0) || got.Method != "static_token" {
		t.Fatalf("GetClient = %+v, %v", got, err)
	}
	if got, err := s.GetClientByName(ctx, "okta"); err != nil || got.ID != a.ID {
		t.Fatalf("GetClientByName is case-insensitive: %+v, %v", got, err)
	}
	wantErr(t, "duplicate name", s.CreateClient(ctx, newClient("OKTA")), tokenstore.ErrAlreadyExists)
	dupID := newClient("other")
	dupID.ID = a.ID
	wantErr(t, "duplicate id", s.CreateClient(ctx, dupID), tokenstore.ErrAlreadyExists)
	_, err = s.GetClient(ctx, "nope")
	wantErr(t, "unknown id", err, tokenstore.ErrNotFound)
	_, err = s.GetClientByName(ctx, "nope")
	wantErr(t, "unknown name", err, tokenstore.ErrNotFound)

	b := mustCreateClient(t, s, "entra")
	list, err := s.ListClients(ctx)
	if err != nil || len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
		t.Fatalf("ListClients = %+v, %v (want entra, Okta)", list, err)
	}

	// Rename: the new name must be free; the old name is released.
	_, err = s.UpdateClient(ctx, b.ID, func(c tokenstore.Client) (tokenstore.Client, error) { c.Name = "okta"; return c, nil })
	wantErr(t, "rename to taken name", err, tokenstore.ErrAlreadyExists)
	upd, err := s.UpdateClient(ctx, b.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
		c.Name, c.Enabled, c.ID = "entra-id", false, "ignored"
		return c, nil
	})
	if err != nil || upd.ID != b.ID || upd.Name != "entra-id" || upd.Enabled {
		t.Fatalf("UpdateClient = %+v, %v", upd, err)
	}
	if _, err := s.GetClientByName(ctx, "entra"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("old name still resolves: %v", err)
	}
	if got, err := s.GetClient(ctx, b.ID); err != nil || got.Enabled || got.Name != "entra-id" {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	mustCreateClient(t, s, "entra") // released name is free again
	boom := errors.New("boom")
	_, err = s.UpdateClient(ctx, b.ID, func(c tokenstore.Client) (tokenstore.Client, error) { return c, boom })
	wantErr(t, "updater error", err, boom)
	_, err = s.UpdateClient(ctx, "nope", func(c tokenstore.Client) (tokenstore.Client, error) { return c, nil })
	wantErr(t, "update unknown", err, tokenstore.ErrNotFound)

	if err := s.DeleteClient(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetClient(ctx, a.ID)
	wantErr(t, "deleted client", err, tokenstore.ErrNotFound)
	wantErr(t, "delete twice", s.DeleteClient(ctx, a.ID), tokenstore.ErrNotFound)
	mustCreateClient(t, s, "okta") // name reusable after delete
}

func testConcurrentCreate(t *testing.T, s tokenstore.Store) {
	raceCreate(t, s, 50, tokenstore.ErrAlreadyExists, func(int) tokenstore.Client { return newClient("same") })
}

// raceCreate creates n clients concurrently, all clashing on one unique
// value; exactly one must succeed, the others fail with want, and one
// client must be stored.
func raceCreate(t *testing.T, s tokenstore.Store, n int, want error, client func(i int) tokenstore.Client) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.CreateClient(context.Background(), client(i)) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, want):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d clashing creations succeeded, want exactly 1", ok, n)
	}
	list, err := s.ListClients(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("ListClients = %d clients, %v", len(list), err)
	}
}

func testConcurrentUpdate(t *testing.T, s tokenstore.Store) {
	c := mustCreateClient(t, s, "cas")
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := s.UpdateClient(context.Background(), c.ID, func(c tokenstore.Client) (tokenstore.Client, error) {
				c.Provider += fmt.Sprint(i % 10)
				return c, nil
			})
			if err != nil {
				t.Errorf("update: %v", err)
			}
		})
	}
	wg.Wait()
	got, _ := s.GetClient(context.Background(), c.ID)
	if len(got.Provider) != n {
		t.Fatalf("lost updates: provider %q has %d of %d marks", got.Provider, len(got.Provider), n)
	}
}

func testTokenCRUD(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	wantErr(t, "token of unknown client", s.CreateToken(ctx, newToken("nope"), randHex(32)), tokenstore.ErrNotFound)
	a, b := mustCreateClient(t, s, "a"), mustCreateClient(t, s, "b")
	ta := newToken(a.ID)
	ta.AllowIPs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	ta.Scopes = []string{"scim_v2:read", "api_v3"}
	hash := mustCreateToken(t, s, ta)
	wantErr(t, "duplicate hash", s.CreateToken(ctx, newToken(a.ID), hash), tokenstore.ErrAlreadyExists)
	wantErr(t, "duplicate id", s.CreateToken(ctx, ta, randHex(32)), tokenstore.ErrAlreadyExists)
	ta2 := newToken(a.ID)
	ta2.CreatedAt = t0.Add(time.Second)
	mustCreateToken(t, s, ta2)
	tb := newToken(b.ID)
	tb.CreatedAt = t0.Add(2 * time.Second)
	mustCreateToken(t, s, tb)

	got, err := s.GetToken(ctx, ta.ID)
	if err != nil || got.ClientID != a.ID || strings.Join(got.Scopes, ",") != "scim_v2:read,api_v3" ||
		len(got.AllowIPs) != 1 || !got.ExpiresAt.Equal(ta.ExpiresAt) || !got.RevokedAt.IsZero() {
		t.Fatalf("GetToken = %+v, %v", got, err)
	}
	if got.Status(t0) != tokenstore.StatusActive || got.Status(ta.ExpiresAt) != tokenstore.StatusExpired {
		t.Fatalf("status: %s %s", got.Status(t0), got.Status(ta.ExpiresAt))
	}
	_, err = s.GetToken(ctx, "nope")
	wantErr(t, "unknown token", err, tokenstore.ErrNotFound)

	list, err := s.ListTokens(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].ID != ta.ID || list[1].ID != ta2.ID {
		t.Fatalf("ListTokens(a) = %+v, %v", list, err)
	}
	all, err := s.ListTokens(ctx, "")
	if err != nil || len(all) != 3 || all[2].ID != tb.ID {
		t.Fatalf("ListTokens() = %+v, %v", all, err)
	}
	_, err = s.ListTokens(ctx, "nope")
	wantErr(t, "tokens of unknown client", err, tokenstore.ErrNotFound)

	rev, err := s.RevokeToken(ctx, ta.ID, t0.Add(time.Hour))
	if err != nil || !rev.RevokedAt.Equal(t0.Add(time.Hour)) || rev.Status(t0.Add(2*time.Hour)) != tokenstore.StatusRevoked {
		t.Fatalf("RevokeToken = %+v, %v", rev, err)
	}
	rev, err = s.RevokeToken(ctx, ta.ID, t0.Add(3*time.Hour))
	if err != nil || !rev.RevokedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("second revoke changed the time: %+v, %v", rev, err)
	}
	_, err = s.RevokeToken(ctx, "nope", t0)
	wantErr(t, "revoke unknown", err, tokenstore.ErrNotFound)
}

func testLookupRefusals(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	ip := netip.MustParseAddr("192.0.2.7")
	c := mustCreateClient(t, s, "c")
	tok := newToken(c.ID)
	hash := mustCreateToken(t, s, tok)

	gotT, gotC, err := s.LookupToken(ctx, hash, ip, t0)
	if err != nil || gotT.ID != tok.ID || gotC.ID != c.ID || gotC.Name != "c" || gotT.Scopes[0] != "scim_v2" {
		t.Fatalf("LookupToken = %+v %+v %v", gotT, gotC, err)
	}
	_, _, err = s.LookupToken(ctx, randHex(32), ip, t0)
	wantErr(t, "unknown hash", err, tokenstore.ErrNotFound)

	gotT, _, err = s.LookupToken(ctx, hash, ip, tok.ExpiresAt)
	wantErr(t, "at expiry", err, tokenstore.ErrTokenExpired)
	if gotT.ClientID != c.ID {
		t.Fatalf("refusal does not name the client: %+v", gotT)
	}
	if _, _, err := s.LookupToken(ctx, hash, ip, tok.ExpiresAt.Add(-time.Millisecond)); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}

	disable := func(on bool) {
		t.Helper()
		if _, err := s.UpdateClient(ctx, c.ID, func(c tokenstore.Client) (tokenstore.Client, error) { c.Enabled = on; return c, nil }); err != nil {
			t.Fatal(err)
		}
	}
	disable(false)
	_, _, err = s.LookupToken(ctx, hash, ip, t0)
	wantErr(t, "disabled client", err, tokenstore.ErrClientDisabled)
	disable(true)
	if _, _, err := s.LookupToken(ctx, hash, ip, t0); err != nil {
		t.Fatalf("re-enabled: %v", err)
	}

	if _, err := s.RevokeToken(ctx, tok.ID, t0); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.LookupToken(ctx, hash, ip, t0)
	wantErr(t, "revoked", err, tokenstore.ErrTokenRevoked)
}

func testLookupAllowList(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	c := mustCreateClient(t, s, "c")
	tok := newToken(c.ID)
	tok.AllowIPs = []netip.Prefix{
		netip.MustParsePrefix("10.1.16.0/20"),
		netip.MustParsePrefix("203.0.113.9/32"),
		netip.MustParsePrefix("2001:db8:ab00::/41"),
	}
	hash := mustCreateToken(t, s, tok)
	open := newToken(c.ID)
	open.AllowIPs = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}
	openHash := mustCreateToken(t, s, open)

	for _, tc := range []struct {
		ip string
		ok bool
	}{
		{"10.1.16.1", true}, {"10.1.31.255", true}, {"10.1.32.0", false}, {"10.1.15.255", false},
		{"203.0.113.9", true}, {"203.0.113.8", false}, {"::ffff:10.1.20.3", true},
		{"2001:db8:ab7f::1", true}, {"2001:db8:ab80::1", false}, {"::1", false}, {"", false},
	} {
		var ip netip.Addr
		if tc.ip != "" {
			ip = netip.MustParseAddr(tc.ip)
		}
		_, _, err := s.LookupToken(ctx, hash, ip, t0)
		if tc.ok && err != nil {
			t.Errorf("%q: refused: %v", tc.ip, err)
		}
		if !tc.ok && !errors.Is(err, tokenstore.ErrAddressNotAllowed) {
			t.Errorf("%q: got %v, want ErrAddressNotAllowed", tc.ip, err)
		}
	}
	if _, _, err := s.LookupToken(ctx, openHash, netip.MustParseAddr("198.51.100.1"), t0); err != nil {
		t.Errorf("0.0.0.0/0 refused an IPv4 address: %v", err)
	}
}

func testTouch(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	c := mustCreateClient(t, s, "c")
	tok := newToken(c.ID)
	hash := mustCreateToken(t, s, tok)
	used := func() tokenstore.Token {
		t.Helper()
		got, err := s.GetToken(ctx, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if u := used(); !u.LastUsedAt.IsZero() || u.LastUsedIP != "" {
		t.Fatalf("unused token has last use: %+v", u)
	}
	lookup := func(ip string, at time.Time) {
		t.Helper()
		if _, _, err := s.LookupToken(ctx, hash, netip.MustParseAddr(ip), at); err != nil {
			t.Fatal(err)
		}
	}
	lookup("192.0.2.1", t0)
	if u := used(); !u.LastUsedAt.Equal(t0) || u.LastUsedIP != "192.0.2.1" {
		t.Fatalf("first use not recorded: %v %q", u.LastUsedAt, u.LastUsedIP)
	}
	lookup("192.0.2.2", t0.Add(30*time.Second))
	if u := used(); !u.LastUsedAt.Equal(t0) || u.LastUsedIP != "192.0.2.1" {
		t.Fatalf("written again within the interval: %v %q", u.LastUsedAt, u.LastUsedIP)
	}
	lookup("2001:db8::5", t0.Add(61*time.Second))
	if u := used(); !u.LastUsedAt.Equal(t0.Add(61*time.Second)) || u.LastUsedIP != "2001:db8::5" {
		t.Fatalf("not written after the interval: %v %q", u.LastUsedAt, u.LastUsedIP)
	}
	// A refused request is not a use.
	if _, _, err := s.LookupToken(ctx, hash, netip.MustParseAddr("192.0.2.9"), tok.ExpiresAt.Add(time.Hour)); !errors.Is(err, tokenstore.ErrTokenExpired) {
		t.Fatal(err)
	}
	if u := used(); u.LastUsedIP != "2001:db8::5" {
		t.Fatalf("refused request recorded as use: %q", u.LastUsedIP)
	}
}

func testDeleteClient(t *testing.T, s tokenstore.Store) {
	ctx := context.Background()
	c, other := mustCreateClient(t, s, "gone"), mustCreateClient(t, s, "stays")
	var hashes []string
	var ids []string
	for range 3 {
		tok := newToken(c.ID)
		hashes = append(hashes, mustCreateToken(t, s, tok))
		ids = append(ids, tok.ID)
	}
	keep := newToken(other.ID)
	keepHash := mustCreateToken(t, s, keep)
	if err := s.DeleteClient(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	for i := range hashes {
		_, _, err := s.LookupToken(ctx, hashes[i], netip.Addr{}, t0)
		wantErr(t, "token of deleted client", err, tokenstore.ErrNotFound)
		_, err = s.GetToken(ctx, ids[i])
		wantErr(t, "token record of deleted client", err, tokenstore.ErrNotFound)
	}
	if _, err := s.GetClientByName(ctx, "gone"); !errors.Is(err, tokenstore.ErrNotFound) {
		t.Fatalf("name index survived: %v", err)
	}
	all, err := s.ListTokens(ctx, "")
	if err != nil || len(all) != 1 || all[0].ID != keep.ID {
		t.Fatalf("ListTokens after delete = %+v, %v", all, err)
	}
	if _, _, err := s.LookupToken(ctx, keepHash, netip.Addr{}, t0); err != nil {
		t.Fatalf("other client's token: %v", err)
	}
	// A client recreated with the same name gets none of the old tokens.
	again := mustCreateClient(t, s, "gone")
	if list, err := s.ListTokens(ctx, again.ID); err != nil || len(list) != 0 {
		t.Fatalf("recreated client has tokens: %+v, %v", list, err)
	}
}
