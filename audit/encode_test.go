package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/redistest"
)

// sampleEvents covers every Event field: a SCIM write, an AUTH_FAILED
// aggregate, an admin event with a reason, a failure, Changed lists that
// commas cannot join, and values that look like codes or packed ids.
func sampleEvents() []audit.Event {
	at := time.Date(2026, 12, 2, 14, 17, 10, 123456789, time.UTC)
	first, last := at.Add(-59*time.Second), at.Add(-time.Second)
	far := time.Date(2300, 1, 1, 0, 0, 0, 5, time.UTC) // beyond int64 nanoseconds
	return []audit.Event{{
		Time: at, Action: audit.UserProvisioned,
		Actor:     audit.Actor{ClientID: "entra-prod", AuthMethod: "static_token", CredentialID: "tok-1234"},
		Target:    audit.Target{Type: "User", ID: "2819c223-7f76-453a-919d-413861904646", Name: "bjensen@example.com"},
		RequestID: "req-1", Outcome: audit.OutcomeSuccess, SourceIP: "203.0.113.7",
		Changed: []string{"active", "name.familyName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"},
	}, {
		Time: last, Action: audit.AuthFailed, Outcome: audit.OutcomeFailure,
		Actor:     audit.Actor{ClientID: "c1", AuthMethod: "client_secret_basic"},
		Target:    audit.Target{Type: "Client", ID: "c1"},
		RequestID: "req-2", Reason: "wrong secret", SourceIP: "198.51.100.4", Network: "198.51.100.4", Route: audit.RouteOAuth,
		Count: 42, First: &first, Last: &last,
	}, {
		Time: at, Action: audit.AuthFailed, Outcome: audit.OutcomeFailure,
		Network: "2001:db8::/64", Route: audit.RouteSCIM, Reason: "unknown token", Count: 1, First: &far, Last: &at,
	}, {
		Time: at, Action: audit.DirectoryDeleted, Actor: audit.Actor{AuthMethod: "admin", CredentialID: "cli"},
		Target:    audit.Target{Type: "Directory", ID: "0199a1c2-7f76-753a-919d-413861904646", Name: "Contoso, Ltd."},
		RequestID: "ad1a3695-0c7c-430f-b17d-af4d7ce32ec3", Outcome: audit.OutcomeSuccess,
		Reason: "force=true clients=1 users=2 groups=0 keys=0",
	}, {
		Time: far, Action: "CUSTOM", Outcome: "denied", Changed: []string{"a,b", ""},
	}, {
		Time: at, Action: audit.ClientUpdated, Outcome: audit.OutcomeSuccess, Changed: []string{"[x]", "y"},
	}, {
		Time: at, Action: audit.ClientUpdated, Outcome: audit.OutcomeSuccess, Changed: []string{"name"},
	}, {
		// ids that look like packed UUIDs or hold their markers
		Time: at, Action: "7", Actor: audit.Actor{ClientID: "\x01" + strings.Repeat("a", 16), AuthMethod: "=admin"},
		Target:    audit.Target{Type: "\x02", ID: "0199A1C2-7F76-753A-919D-413861904646"},
		RequestID: "\x02x", Outcome: audit.OutcomeSuccess, Changed: []string{"~", "A", "active"},
	}}
}

// asJSON is e as the admin API renders it, its times in UTC (the stream
// keeps instants, not zones).
func asJSON(t *testing.T, e audit.Event) string {
	t.Helper()
	e.ID = ""
	e.Time = e.Time.UTC()
	for _, p := range []**time.Time{&e.First, &e.Last} {
		if *p != nil {
			u := (*p).UTC()
			*p = &u
		}
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// message is the stream entry XADD would store for fields.
func message(id string, fields []any) redis.XMessage {
	m := redis.XMessage{ID: id, Values: map[string]any{}}
	for i := 0; i+1 < len(fields); i += 2 {
		m.Values[fmt.Sprint(fields[i])] = fmt.Sprint(fields[i+1])
	}
	return m
}

func TestFieldsRoundTrip(t *testing.T) {
	for i, want := range append(sampleEvents(), audit.Event{}) {
		got, ok := audit.Decode(message("1-1", audit.AppendFields(nil, want)))
		if !ok || got.ID != "1-1" {
			t.Fatalf("event %d: decode ok=%v id=%q", i, ok, got.ID)
		}
		if want.Outcome == "" {
			want.Outcome = audit.OutcomeSuccess // as every writer records it
		}
		if g, w := asJSON(t, got), asJSON(t, want); g != w {
			t.Errorf("event %d:\n got %s\nwant %s", i, g, w)
		}
	}
}

// TestFieldsShortAndStable checks what makes the layout compact: every
// entry starts with the same field names, and a SCIM write's entry holds
// no JSON and no default outcome.
func TestFieldsShortAndStable(t *testing.T) {
	var names []string
	for i, e := range sampleEvents() {
		f := audit.AppendFields(nil, e)
		var these []string
		for j := 0; j < len(f); j += 2 {
			these = append(these, f[j].(string))
		}
		if i == 0 {
			names = these
			continue
		}
		if len(these) < len(names) || strings.Join(these[:len(names)], ",") != strings.Join(names, ",") {
			t.Errorf("event %d fields %q do not start with %q", i, these, names)
		}
	}
	f := audit.AppendFields(nil, sampleEvents()[0])
	if len(f) != 2*len(names) {
		t.Errorf("a SCIM write has optional fields: %q", f)
	}
	for j := 1; j < len(f); j += 2 {
		if v := f[j].(string); strings.ContainsAny(v, "{}\"") || v == audit.OutcomeSuccess {
			t.Errorf("value %q of %q", v, f[j-1])
		}
	}
}

// plainEntries are entries of the previous layout (every value verbatim,
// time in "t") as that version's AppendFields wrote them, with the admin
// API JSON of their events: they must keep decoding to exactly that.
var plainEntries = []struct {
	fields []any
	json   string
}{{
	[]any{"t", "1796231634554865609", "a", "SCIM_USER_PROVISIONED", "ci", "entra-prod", "am", "static_token", "cr", "54d872fb-f31", "tt", "User", "ti", "01a237bf-9e7a-7c5c-815a-8a5c6ee0aa0a", "tn", "user000000@contoso.com", "rq", "ad1a3695-0c7c-430f-b17d-af4d7ce32ec3", "o", "", "ch", "active,displayName,emails,externalId,name,title,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,userName", "ip", "203.0.113.7"},
	`{"time":"2026-12-02T17:13:54.554865609Z","action":"SCIM_USER_PROVISIONED","actor":{"client_id":"entra-prod","auth_method":"static_token","credential_id":"54d872fb-f31"},"target":{"type":"User","id":"01a237bf-9e7a-7c5c-815a-8a5c6ee0aa0a","name":"user000000@contoso.com"},"request_id":"ad1a3695-0c7c-430f-b17d-af4d7ce32ec3","outcome":"success","changed":["active","displayName","emails","externalId","name","title","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","userName"],"source_ip":"203.0.113.7"}`,
}, {
	[]any{"t", "1796221030123456789", "a", "SCIM_USER_PROVISIONED", "ci", "entra-prod", "am", "static_token", "cr", "tok-1234", "tt", "User", "ti", "2819c223-7f76-453a-919d-413861904646", "tn", "bjensen@example.com", "rq", "req-1", "o", "", "ch", "active,name.familyName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "ip", "203.0.113.7"},
	`{"time":"2026-12-02T14:17:10.123456789Z","action":"SCIM_USER_PROVISIONED","actor":{"client_id":"entra-prod","auth_method":"static_token","credential_id":"tok-1234"},"target":{"type":"User","id":"2819c223-7f76-453a-919d-413861904646","name":"bjensen@example.com"},"request_id":"req-1","outcome":"success","changed":["active","name.familyName","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"],"source_ip":"203.0.113.7"}`,
}, {
	[]any{"t", "1796221029123456789", "a", "AUTH_FAILED", "ci", "c1", "am", "client_secret_basic", "cr", "", "tt", "Client", "ti", "c1", "tn", "", "rq", "req-2", "o", "failure", "ch", "", "ip", "198.51.100.4", "rs", "wrong secret", "nw", "198.51.100.4", "rt", "oauth", "n", "42", "f", "1796220971123456789", "l", "1796221029123456789"},
	`{"time":"2026-12-02T14:17:09.123456789Z","action":"AUTH_FAILED","actor":{"client_id":"c1","auth_method":"client_secret_basic"},"target":{"type":"Client","id":"c1"},"request_id":"req-2","outcome":"failure","reason":"wrong secret","source_ip":"198.51.100.4","network":"198.51.100.4","route":"oauth","count":42,"first":"2026-12-02T14:16:11.123456789Z","last":"2026-12-02T14:17:09.123456789Z"}`,
}, {
	[]any{"t", "1796221030123456789", "a", "AUTH_FAILED", "ci", "", "am", "", "cr", "", "tt", "", "ti", "", "tn", "", "rq", "", "o", "failure", "ch", "", "ip", "", "rs", "unknown token", "nw", "2001:db8::/64", "rt", "scim", "n", "1", "f", "2300-01-01T00:00:00.000000005Z", "l", "1796221030123456789"},
	`{"time":"2026-12-02T14:17:10.123456789Z","action":"AUTH_FAILED","actor":{},"target":{},"outcome":"failure","reason":"unknown token","network":"2001:db8::/64","route":"scim","count":1,"first":"2300-01-01T00:00:00.000000005Z","last":"2026-12-02T14:17:10.123456789Z"}`,
}, {
	[]any{"t", "1796221030123456789", "a", "DIRECTORY_DELETED", "ci", "", "am", "admin", "cr", "cli", "tt", "Directory", "ti", "d1", "tn", "Contoso, Ltd.", "rq", "", "o", "", "ch", "", "ip", "", "rs", "force=true clients=1 users=2 groups=0 keys=0"},
	`{"time":"2026-12-02T14:17:10.123456789Z","action":"DIRECTORY_DELETED","actor":{"auth_method":"admin","credential_id":"cli"},"target":{"type":"Directory","id":"d1","name":"Contoso, Ltd."},"outcome":"success","reason":"force=true clients=1 users=2 groups=0 keys=0"}`,
}, {
	[]any{"t", "2300-01-01T00:00:00.000000005Z", "a", "CUSTOM", "ci", "", "am", "", "cr", "", "tt", "", "ti", "", "tn", "", "rq", "", "o", "denied", "ch", "[\"a,b\",\"\"]", "ip", ""},
	`{"time":"2300-01-01T00:00:00.000000005Z","action":"CUSTOM","actor":{},"target":{},"outcome":"denied","changed":["a,b",""]}`,
}, {
	[]any{"t", "1796221030123456789", "a", "CLIENT_UPDATED", "ci", "", "am", "", "cr", "", "tt", "", "ti", "", "tn", "", "rq", "", "o", "", "ch", "[\"[x]\",\"y\"]", "ip", ""},
	`{"time":"2026-12-02T14:17:10.123456789Z","action":"CLIENT_UPDATED","actor":{},"target":{},"outcome":"success","changed":["[x]","y"]}`,
}, {
	// values that would be codes in the coded layout stay verbatim here
	[]any{"t", "1796221030123456789", "a", "7", "ci", "", "am", "0", "cr", "", "tt", "=1", "ti", "", "tn", "", "rq", "", "o", "", "ch", "A0,~x", "ip", ""},
	`{"time":"2026-12-02T14:17:10.123456789Z","action":"7","actor":{"auth_method":"0"},"target":{"type":"=1"},"outcome":"success","changed":["A0","~x"]}`,
}}

func TestPlainLayoutDecodes(t *testing.T) {
	for i, f := range plainEntries {
		e, ok := audit.Decode(message("1-1", f.fields))
		if !ok || e.ID != "1-1" {
			t.Fatalf("entry %d: ok=%v id=%q", i, ok, e.ID)
		}
		if got := asJSON(t, e); got != f.json {
			t.Errorf("entry %d:\n got %s\nwant %s", i, got, f.json)
		}
	}
}

// TestStreamRoundTripAndLegacy appends every sample event, interleaved with
// entries in the JSON layout of earlier versions, then entries of the
// uncoded layout, and reads them back with every reader, on miniredis and
// redis-server.
func TestStreamRoundTripAndLegacy(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ctx := context.Background()
		l := audit.NewLog(r.Client, r.Prefix, 0)
		var want []string
		for i, e := range sampleEvents() {
			if err := l.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
			want = append(want, asJSON(t, e))
			// an earlier version's entry: {"e": JSON}
			old := e
			old.Action = fmt.Sprintf("LEGACY_%d", i)
			b, _ := json.Marshal(old)
			if err := r.Client.XAdd(ctx, &redis.XAddArgs{Stream: audit.Key(r.Prefix), Values: []any{"e", string(b)}}).Err(); err != nil {
				t.Fatal(err)
			}
			want = append(want, asJSON(t, old))
		}
		// entries of the previous, uncoded layout
		for _, f := range plainEntries {
			if err := r.Client.XAdd(ctx, &redis.XAddArgs{Stream: audit.Key(r.Prefix), Values: f.fields}).Err(); err != nil {
				t.Fatal(err)
			}
			want = append(want, f.json)
		}
		// no layout: skipped
		if err := r.Client.XAdd(ctx, &redis.XAddArgs{Stream: audit.Key(r.Prefix), Values: []any{"x", "1"}}).Err(); err != nil {
			t.Fatal(err)
		}
		check := func(name string, evs []audit.Event) {
			t.Helper()
			if len(evs) != len(want) {
				t.Fatalf("%s: %d events, want %d", name, len(evs), len(want))
			}
			for i, e := range evs {
				if e.ID == "" {
					t.Errorf("%s: event %d has no id", name, i)
				}
				if g := asJSON(t, e); g != want[i] {
					t.Errorf("%s: event %d:\n got %s\nwant %s", name, i, g, want[i])
				}
			}
		}
		p, err := l.Query(ctx, audit.Query{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		check("Query", p.Events)
		last, _, err := l.Last(ctx, 1000, audit.Query{})
		if err != nil {
			t.Fatal(err)
		}
		check("Last", last)
		np, err := l.QueryNewest(ctx, audit.Query{Limit: 1000}, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i, j := 0, len(np.Events)-1; i < j; i, j = i+1, j-1 {
			np.Events[i], np.Events[j] = np.Events[j], np.Events[i]
		}
		check("QueryNewest", np.Events)
		// filters see the decoded fields of both layouts
		p, err = l.Query(ctx, audit.Query{Client: "c1", Target: "c1"})
		if err != nil || len(p.Events) != 3 || p.Events[0].Count != 42 || p.Events[1].Count != 42 || p.Events[2].Count != 42 {
			t.Fatalf("query by client: %+v %v", p.Events, err)
		}
	})
}

// FuzzDecode feeds arbitrary field lists (NUL-separated names and values)
// to Decode: it must not panic, and an event it accepts in the compact
// layout encodes back to an entry that decodes to the same event.
func FuzzDecode(f *testing.F) {
	for _, e := range sampleEvents() {
		var parts []string
		for _, v := range audit.AppendFields(nil, e) {
			parts = append(parts, v.(string))
		}
		f.Add(strings.Join(parts, "\x00"))
	}
	for _, p := range plainEntries {
		var parts []string
		for _, v := range p.fields {
			parts = append(parts, v.(string))
		}
		f.Add(strings.Join(parts, "\x00"))
	}
	f.Add("e\x00{\"action\":\"X\",\"time\":\"2026-01-01T00:00:00Z\"}")
	f.Add("t\x002026-01-01T00:00:00+01:00\x00ch\x00[\"a\",\"\"]\x00n\x00x")
	f.Add("t\x00-1\x00f\x00\x00l\x009223372036854775807")
	f.Add("T\x00-1\x00a\x0099\x00am\x00=\x00ch\x00,~,A,")
	f.Fuzz(func(t *testing.T, s string) {
		parts := strings.Split(s, "\x00")
		fields := make([]any, len(parts))
		for i, p := range parts {
			fields[i] = p
		}
		m := message("0-1", fields)
		e, ok := audit.Decode(m)
		if !ok {
			return
		}
		if _, legacy := m.Values["e"]; legacy {
			return
		}
		again, ok := audit.Decode(message("0-1", audit.AppendFields(nil, e)))
		if !ok {
			t.Fatalf("%+v does not decode after encoding", e)
		}
		if _, err := json.Marshal(e); err != nil {
			return // a time JSON cannot render (beyond year 9999)
		}
		// JSON renders invalid UTF-8 as U+FFFD, as it did in the JSON
		// layout: compare what the renderings say, not their escapes
		g, w := asJSON(t, again), asJSON(t, e)
		var gv, wv any
		if json.Unmarshal([]byte(g), &gv) != nil || json.Unmarshal([]byte(w), &wv) != nil || !reflect.DeepEqual(gv, wv) {
			t.Fatalf("re-encoded:\n got %s\nwant %s", g, w)
		}
	})
}

// BenchmarkEncode compares the stream entry fields of a SCIM write's event
// with the JSON earlier versions stored (run with -benchmem).
func BenchmarkEncode(b *testing.B) {
	e := sampleEvents()[0]
	b.Run("fields", func(b *testing.B) {
		dst := make([]any, 0, 32)
		for b.Loop() {
			dst = audit.AppendFields(dst[:0], e)
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecode compares reading an entry in either layout.
func BenchmarkDecode(b *testing.B) {
	e := sampleEvents()[0]
	raw, _ := json.Marshal(e)
	for name, m := range map[string]redis.XMessage{
		"fields": message("1-1", audit.AppendFields(nil, e)),
		"json":   {ID: "1-1", Values: map[string]any{"e": string(raw)}},
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, ok := audit.Decode(m); !ok {
					b.Fatal("no event")
				}
			}
		})
	}
}
