package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/config"
)

// api calls the gateway with a bearer token and decodes the JSON answer.
type api struct {
	t    *testing.T
	base string
}

func (a api) do(method, path, token string, body any) (int, map[string]any) {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, r)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// want calls do and fails unless the status is status.
func (a api) want(status int, method, path, token string, body any) map[string]any {
	a.t.Helper()
	got, out := a.do(method, path, token, body)
	if got != status {
		a.t.Fatalf("%s %s: %d, want %d: %v", method, path, got, status, out)
	}
	return out
}

const adminTok = "opadm-directories-test"

// directoryClient creates a directory (unless "default") and a client in
// it with a static token; it returns the directory id and the token.
func (a api) directoryClient(dir, client string) (string, string) {
	a.t.Helper()
	id := "default"
	if dir != "default" {
		id = a.want(201, "POST", "/admin/api/v1/directories", adminTok, map[string]any{"name": dir})["id"].(string)
	}
	c := a.want(201, "POST", "/admin/api/v1/clients", adminTok, map[string]any{"name": client, "directory": dir})
	if c["directory"] != id {
		a.t.Fatalf("client %s in directory %v, want %s", client, c["directory"], id)
	}
	tok := a.want(201, "POST", "/admin/api/v1/clients/"+client+"/tokens", adminTok, map[string]any{})["token"].(string)
	return id, tok
}

func user(name string) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name}
}

func group(name string, members ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": members}
}

func total(out map[string]any) int {
	n, _ := out["totalResults"].(float64)
	return int(n)
}

func gatewayOn(t *testing.T, url string) api {
	cfg := config.Default()
	cfg.Redis.URL = url
	cfg.Admin.Token = adminTok
	cfg.Tokens.Pepper = "upgrade-pepper"
	base, _ := startGateway(t, cfg)
	return api{t: t, base: base}
}

// TestDirectoriesIsolateOverHTTP: two directories on one gateway. A token
// of directory A never reads, lists, filters, changes, deletes, bulks or
// references directory B's resources; uniqueness holds per directory; the
// audit trail, the user cap and deletion work per directory.
func TestDirectoriesIsolateOverHTTP(t *testing.T) {
	m := miniredis.RunT(t)
	a := gatewayOn(t, "redis://"+m.Addr())
	idA, tokA := a.directoryClient("acme", "acme-idp")
	idB, tokB := a.directoryClient("globex", "globex-idp")

	uB := a.want(201, "POST", "/scim/v2/Users", tokB, user("shared"))["id"].(string)
	gB := a.want(201, "POST", "/scim/v2/Groups", tokB, group("staff", map[string]any{"value": uB}))["id"].(string)
	// userName uniqueness is per directory (RFC 7643 §4.1.1 "unique ...
	// within the service provider's" data, here a directory's).
	uA := a.want(201, "POST", "/scim/v2/Users", tokA, user("shared"))["id"].(string)
	a.want(201, "POST", "/scim/v2/Users", tokA, user("alice"))
	a.want(409, "POST", "/scim/v2/Users", tokA, user("SHARED"))

	// Every route with B's ids answers 404 to A.
	for _, r := range []struct{ method, path string }{
		{"GET", "/Users/" + uB}, {"GET", "/Groups/" + gB},
		{"DELETE", "/Users/" + uB}, {"DELETE", "/Groups/" + gB},
	} {
		a.want(404, r.method, "/scim/v2"+r.path, tokA, nil)
	}
	a.want(404, "PUT", "/scim/v2/Users/"+uB, tokA, user("stolen"))
	a.want(404, "PATCH", "/scim/v2/Groups/"+gB, tokA, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uA}}}}})
	// Lists, filters and searches see A's resources only.
	if out := a.want(200, "GET", "/scim/v2/Users", tokA, nil); total(out) != 2 {
		t.Fatalf("A lists %d users, want 2: %v", total(out), out)
	}
	out := a.want(200, "GET", `/scim/v2/Users?filter=userName%20eq%20%22shared%22`, tokA, nil)
	if total(out) != 1 || out["Resources"].([]any)[0].(map[string]any)["id"] != uA {
		t.Fatalf("A's filter found %v", out)
	}
	for _, f := range []string{`id eq "` + uB + `"`, `displayName eq "staff"`} {
		if out := a.want(200, "POST", "/scim/v2/.search", tokA, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"}, "filter": f}); total(out) != 0 {
			t.Fatalf("A's search %s found %v", f, out)
		}
	}
	if out := a.want(200, "GET", "/scim/v2/Groups", tokA, nil); total(out) != 0 {
		t.Fatalf("A lists B's groups: %v", out)
	}
	// B's user cannot be made a member in A, by value or by $ref.
	a.want(400, "POST", "/scim/v2/Groups", tokA, group("x", map[string]any{"value": uB}))
	a.want(400, "POST", "/scim/v2/Groups", tokA, group("y", map[string]any{"value": uB, "$ref": a.base + "/scim/v2/Users/" + uB}))
	gA := a.want(201, "POST", "/scim/v2/Groups", tokA, group("team"))["id"].(string)
	a.want(400, "PATCH", "/scim/v2/Groups/"+gA, tokA, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": uB}}}}})
	// /Bulk runs in the caller's directory: B's ids are 404 or 400, and a
	// bulkId resolves to A's new resource only.
	bulk := a.want(200, "POST", "/scim/v2/Bulk", tokA, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:BulkRequest"},
		"Operations": []any{
			map[string]any{"method": "DELETE", "path": "/Users/" + uB},
			map[string]any{"method": "PUT", "path": "/Groups/" + gB, "data": group("taken")},
			map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g", "data": group("z", map[string]any{"value": uB})},
			map[string]any{"method": "POST", "path": "/Users", "bulkId": "u", "data": user("bulk-user")},
			map[string]any{"method": "POST", "path": "/Groups", "bulkId": "w", "data": group("w", map[string]any{"value": "bulkId:u"})},
		}})
	var statuses []string
	for _, op := range bulk["Operations"].([]any) {
		statuses = append(statuses, op.(map[string]any)["status"].(string))
	}
	if got := strings.Join(statuses, ","); got != "404,404,400,201,201" {
		t.Fatalf("bulk statuses %s, want 404,404,400,201,201: %v", got, bulk)
	}
	// B's data is untouched.
	if out := a.want(200, "GET", "/scim/v2/Groups/"+gB, tokB, nil); out["displayName"] != "staff" || len(out["members"].([]any)) != 1 {
		t.Fatalf("B's group changed: %v", out)
	}
	if out := a.want(200, "GET", "/scim/v2/Users", tokB, nil); total(out) != 1 {
		t.Fatalf("B lists %d users, want 1", total(out))
	}

	// Each directory's SCIM writes are in its own audit stream.
	auditOf := func(dir string) string {
		b, _ := json.Marshal(a.want(200, "GET", "/admin/api/v1/audit?limit=1000&directory="+dir, adminTok, nil))
		return string(b)
	}
	if s := auditOf("acme"); !strings.Contains(s, uA) || strings.Contains(s, uB) {
		t.Fatalf("acme's audit: %s", s)
	}
	if s := auditOf(idB); !strings.Contains(s, uB) || strings.Contains(s, uA) {
		t.Fatalf("globex's audit: %s", s)
	}
	if s := auditOf("default"); strings.Contains(s, uA) || strings.Contains(s, uB) || !strings.Contains(s, "DIRECTORY_CREATED") {
		t.Fatalf("default audit: %s", s)
	}

	// Counts, and the user cap.
	dirs := a.want(200, "GET", "/admin/api/v1/directories", adminTok, nil)["directories"].([]any)
	if len(dirs) != 3 || dirs[0].(map[string]any)["id"] != "default" {
		t.Fatalf("directories: %v", dirs)
	}
	acme := a.want(200, "GET", "/admin/api/v1/directories/"+idA, adminTok, nil)
	if acme["users"] != 3.0 || acme["groups"] != 2.0 || acme["clients"] != 1.0 {
		t.Fatalf("acme counts: %v", acme)
	}
	a.want(200, "PATCH", "/admin/api/v1/directories/acme", adminTok, map[string]any{"max_users": 3})
	if out := a.want(403, "POST", "/scim/v2/Users", tokA, user("one-too-many")); !strings.Contains(fmt.Sprint(out["detail"]), "maximum of 3 users") {
		t.Fatalf("quota detail: %v", out)
	}
	a.want(201, "POST", "/scim/v2/Users", tokB, user("b-not-capped"))

	// Deletion: refused while not empty, forced deletes everything.
	a.want(409, "DELETE", "/admin/api/v1/directories/default", adminTok, nil)
	a.want(409, "DELETE", "/admin/api/v1/directories/globex", adminTok, nil)
	rep := a.want(200, "DELETE", "/admin/api/v1/directories/globex?force=true", adminTok, nil)
	if rep["clients_deleted"] != 1.0 || rep["users_deleted"] != 2.0 || rep["groups_deleted"] != 1.0 || rep["keys_deleted"].(float64) < 5 {
		t.Fatalf("deletion report: %v", rep)
	}
	// Refused at once: 403 while the token's principal is cached (the
	// directory is gone), 401 after (the client is gone).
	if st, _ := a.do("GET", "/scim/v2/Users", tokB, nil); st != 403 && st != 401 {
		t.Fatalf("token of the deleted directory: %d", st)
	}
	if keys := m.Keys(); strings.Contains(strings.Join(keys, " "), idB) {
		t.Fatalf("keys of the deleted directory remain: %v", keys)
	}
	a.want(404, "GET", "/admin/api/v1/directories/globex", adminTok, nil)
	a.want(400, "POST", "/admin/api/v1/clients", adminTok, map[string]any{"name": "late", "directory": idB})
	a.want(200, "GET", "/scim/v2/Users/"+uA, tokA, nil)
}

// TestUpgradeServesPreDirectoriesData: the keys a release before
// directories wrote (testdata/predirectories_redis.json, made by
// testdata/mkfixture.go.txt on that release: a client with a static token,
// two users, a group with a member, the audit and event streams) are
// served by this release through the default directory, with no
// migration.
func TestUpgradeServesPreDirectoriesData(t *testing.T) {
	raw, err := os.ReadFile("testdata/predirectories_redis.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Token string
		Keys  []struct {
			Key, Type, String string
			Hash              map[string]string
			ZSet              []redis.Z
			Set               []string
			Stream            []redis.XMessage
		}
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer c.Close()
	ctx := context.Background()
	for _, k := range fx.Keys {
		switch k.Type {
		case "hash":
			if strings.Contains(k.Key, "{auth}:token:") {
				// The fixture's token was issued for a year; keep it valid.
				k.Hash["exp"] = fmt.Sprint(time.Now().Add(time.Hour).UnixMilli())
			}
			err = c.HSet(ctx, k.Key, k.Hash).Err()
		case "zset":
			err = c.ZAdd(ctx, k.Key, k.ZSet...).Err()
		case "set":
			err = c.SAdd(ctx, k.Key, k.Set).Err()
		case "string":
			err = c.Set(ctx, k.Key, k.String, 0).Err()
		case "stream":
			for _, e := range k.Stream {
				if err = c.XAdd(ctx, &redis.XAddArgs{Stream: k.Key, ID: e.ID, Values: e.Values}).Err(); err != nil {
					break
				}
			}
		default:
			t.Fatalf("fixture key %s of type %s", k.Key, k.Type)
		}
		if err != nil {
			t.Fatalf("load %s: %v", k.Key, err)
		}
	}
	a := gatewayOn(t, "redis://"+m.Addr())
	out := a.want(200, "GET", `/scim/v2/Users?filter=userName%20eq%20%22alice%22`, fx.Token, nil)
	if total(out) != 1 {
		t.Fatalf("alice not found: %v", out)
	}
	alice := out["Resources"].([]any)[0].(map[string]any)
	if groups, _ := alice["groups"].([]any); len(groups) != 1 || groups[0].(map[string]any)["display"] != "Engineering" {
		t.Fatalf("alice's groups: %v", alice)
	}
	if out := a.want(200, "GET", `/scim/v2/Groups?filter=displayName%20eq%20%22engineering%22`, fx.Token, nil); total(out) != 1 {
		t.Fatalf("group by displayName: %v", out)
	}
	if out := a.want(200, "GET", `/scim/v2/Users?filter=externalId%20eq%20%22ext-alice%22`, fx.Token, nil); total(out) != 1 {
		t.Fatalf("user by externalId: %v", out)
	}
	// The old indexes are live: the old userName is taken, a change moves it.
	a.want(409, "POST", "/scim/v2/Users", fx.Token, user("BOB"))
	id := alice["id"].(string)
	a.want(200, "PATCH", "/scim/v2/Users/"+id, fx.Token, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "userName", "value": "alice2"}}})
	a.want(201, "POST", "/scim/v2/Users", fx.Token, user("alice"))
	// The new writes join the old streams, and the default directory
	// counts the old data.
	if n := c.XLen(ctx, "scimgate:{scim}:audit").Val(); n < 5 {
		t.Fatalf("audit stream has %d entries", n)
	}
	if n := c.XLen(ctx, "scimgate:{scim}:events").Val(); n < 5 {
		t.Fatalf("events stream has %d entries", n)
	}
	d := a.want(200, "GET", "/admin/api/v1/directories/default", adminTok, nil)
	if d["users"] != 3.0 || d["groups"] != 1.0 || d["clients"] != 1.0 {
		t.Fatalf("default directory counts: %v", d)
	}
}
