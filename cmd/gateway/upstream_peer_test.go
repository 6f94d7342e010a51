package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	filter "github.com/scim2/filter-parser/v2"
)

// peerStore is a map-backed Users or Groups handler for an elimity-com/scim
// upstream whose PATCH applies RFC 7644 §3.5.2 operations as they are
// written and refuses what is not (like many applications' own SCIM
// endpoints): a path-less value may name top-level attributes only, and
// members are objects (the library's schema validation refuses bare
// strings before the handler runs).
type peerStore struct {
	mu     sync.Mutex
	unique string // attribute that must be unique, e.g. userName
	attrs  map[string]bool
	byID   map[string]scim.Resource
	ver    int
}

func newPeerStore(s schema.Schema, unique string) *peerStore {
	p := &peerStore{unique: unique, attrs: map[string]bool{}, byID: map[string]scim.Resource{}}
	for _, a := range s.Attributes {
		p.attrs[strings.ToLower(a.Name())] = true
	}
	return p
}

func (s *peerStore) save(id string, attrs scim.ResourceAttributes) scim.Resource {
	s.ver++
	now := time.Now().UTC()
	res := scim.Resource{ID: id, Attributes: attrs, Meta: scim.Meta{Created: &now, LastModified: &now, Version: fmt.Sprintf(`W/"%d"`, s.ver)}}
	if ext, ok := attrs["externalId"].(string); ok {
		res.ExternalID = optional.NewString(ext)
	}
	s.byID[id] = res
	return res
}

func (s *peerStore) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, res := range s.byID {
		if strings.EqualFold(fmt.Sprint(res.Attributes[s.unique]), fmt.Sprint(attrs[s.unique])) {
			return scim.Resource{}, scimerrors.ScimErrorUniqueness
		}
	}
	return s.save(hex.EncodeToString(b[:]), attrs), nil
}

func (s *peerStore) Get(r *http.Request, id string) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, ok := s.byID[id]
	if !ok {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	return res, nil
}

func (s *peerStore) GetAll(r *http.Request, p scim.ListRequestParams) (scim.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	page := scim.Page{Resources: []scim.Resource{}}
	for id, res := range s.byID {
		m := map[string]any{"id": id}
		for k, v := range res.Attributes {
			m[k] = v
		}
		if p.FilterValidator != nil && p.FilterValidator.PassesFilter(m) != nil {
			continue
		}
		page.TotalResults++
		page.Resources = append(page.Resources, res)
	}
	return page, nil
}

func (s *peerStore) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	return s.save(id, attrs), nil
}

func (s *peerStore) Delete(r *http.Request, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[id]; !ok {
		return scimerrors.ScimErrorResourceNotFound(id)
	}
	delete(s.byID, id)
	return nil
}

func (s *peerStore) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, ok := s.byID[id]
	if !ok {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	attrs := scim.ResourceAttributes{}
	for k, v := range res.Attributes {
		attrs[k] = v
	}
	for _, op := range ops {
		if op.Path == nil {
			vals, _ := op.Value.(map[string]any)
			for k, v := range vals {
				if !s.attrs[strings.ToLower(k)] {
					return scim.Resource{}, scimerrors.ScimErrorInvalidValue
				}
				attrs[k] = v
			}
			continue
		}
		name := op.Path.AttributePath.AttributeName
		sub := op.Path.AttributePath.SubAttributeName()
		switch {
		case sub != "" && op.Op != "remove":
			parent, _ := attrs[name].(map[string]any)
			np := map[string]any{}
			for k, v := range parent {
				np[k] = v
			}
			np[sub] = op.Value
			attrs[name] = np
		case op.Op == "add" && op.Path.ValueExpression == nil:
			old, _ := attrs[name].([]any)
			add, _ := op.Value.([]any)
			attrs[name] = append(slices.Clone(old), add...)
		case op.Op == "replace" && op.Path.ValueExpression == nil:
			attrs[name] = op.Value
		case op.Op == "remove" && op.Path.ValueExpression == nil:
			delete(attrs, name)
		case op.Op == "remove":
			eq, ok := op.Path.ValueExpression.(*filter.AttributeExpression)
			if !ok || eq.Operator != filter.EQ {
				return scim.Resource{}, scimerrors.ScimErrorInvalidFilter
			}
			old, _ := attrs[name].([]any)
			attrs[name] = slices.DeleteFunc(slices.Clone(old), func(e any) bool {
				m, _ := e.(map[string]any)
				return m[eq.AttributePath.AttributeName] == eq.CompareValue
			})
		default:
			return scim.Resource{}, scimerrors.ScimErrorInvalidPath
		}
	}
	return s.save(id, attrs), nil
}

// startPeer serves an elimity-com/scim upstream with Users and Groups on
// loopback that demands its own bearer token and logs every request.
func startPeer(t *testing.T, token string) (*httptest.Server, func() []peerRequest) {
	t.Helper()
	return startPeerWith(t, false, func(auth string) bool { return auth == "Bearer "+token }, nil)
}

// startPeerWith serves an elimity-com/scim upstream on loopback (over TLS
// with tls) that lets through the requests whose Authorization authorized
// accepts, logs every request, and serves extra (e.g. a token endpoint)
// on the same server when not nil.
func startPeerWith(t testing.TB, tls bool, authorized func(auth string) bool, extra http.Handler) (*httptest.Server, func() []peerRequest) {
	t.Helper()
	var srv http.Handler
	var mu sync.Mutex
	var log []peerRequest
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if extra != nil && !strings.HasPrefix(r.URL.Path, "/scim/") {
			extra.ServeHTTP(w, r)
			return
		}
		raw := make([]byte, 1<<16)
		n, _ := r.Body.Read(raw)
		mu.Lock()
		log = append(log, peerRequest{r.Method, r.URL.Path, r.Header.Get("Authorization"), string(raw[:n]), r.Header.Clone()})
		mu.Unlock()
		r.Body = readCloser{strings.NewReader(string(raw[:n]))}
		if !authorized(r.Header.Get("Authorization")) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		h := srv
		mu.Unlock()
		http.StripPrefix("/scim", h).ServeHTTP(w, r)
	})
	var hs *httptest.Server
	if tls {
		hs = httptest.NewTLSServer(h)
	} else {
		hs = httptest.NewServer(h)
	}
	t.Cleanup(hs.Close)
	peer := elimityPeer(t, hs.URL+"/scim/v2")
	mu.Lock()
	srv = peer
	mu.Unlock()
	return hs, func() []peerRequest { mu.Lock(); defer mu.Unlock(); return append([]peerRequest(nil), log...) }
}

// elimityPeer is an elimity-com/scim server of Users and Groups at base.
func elimityPeer(t testing.TB, base string) http.Handler {
	t.Helper()
	peer, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{SupportFiltering: true, SupportPatch: true, MaxResults: 100},
		ResourceTypes: []scim.ResourceType{{
			ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
			Schema: schema.CoreUserSchema(), Handler: newPeerStore(schema.CoreUserSchema(), "userName"),
		}, {
			ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups",
			Schema: schema.CoreGroupSchema(), Handler: newPeerStore(schema.CoreGroupSchema(), "displayName"),
		}},
	}, scim.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	return peer
}

// TestUpstreamBulkExpanded: an upstream without /Bulk gets a bulk request
// as single requests in order; the group's member bulkId:u is the id the
// upstream gave the user (RFC 7644 §3.7.2); the BulkResponse has each
// operation's status and scimgate's locations; failOnErrors stops the rest
// (§3.7.3).
func TestUpstreamBulkExpanded(t *testing.T) {
	peer, seen := startPeer(t, "upstream-secret-token")
	c := newSCIMClient(t, upstreamConfig(t, peer.URL+"/scim/v2", "upstream-secret-token"))

	code, spc := c.do("GET", "/scim/v2/ServiceProviderConfig", "")
	if bulk, _ := spc["bulk"].(map[string]any); code != 200 || bulk["supported"] != true {
		t.Fatalf("spc: %d bulk %v", code, spc["bulk"])
	}
	code, b := c.do("POST", "/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
		{"method":"POST","path":"/Groups","bulkId":"g","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng","members":[{"value":"bulkId:u"}]}},
		{"method":"POST","path":"/Users","bulkId":"u","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bulk@example.com","active":"True"}},
		{"method":"PATCH","path":"/Users/bulkId:u","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"Bulk"}]}}]}`)
	if code != 200 || b["schemas"].([]any)[0] != "urn:ietf:params:scim:api:messages:2.0:BulkResponse" {
		t.Fatalf("bulk: %d %v", code, b)
	}
	ops := b["Operations"].([]any)
	if len(ops) != 3 {
		t.Fatalf("bulk results: %v", ops)
	}
	var userID, groupLoc string
	for _, o := range ops {
		r := o.(map[string]any)
		loc, _ := r["location"].(string)
		if !strings.HasPrefix(loc, c.base+"/scim/v2/") {
			t.Fatalf("operation %v: location not scimgate's", r)
		}
		switch r["bulkId"] {
		case "u":
			if r["status"] != "201" {
				t.Fatalf("user: %v", r)
			}
			userID = loc[strings.LastIndex(loc, "/")+1:]
		case "g":
			if r["status"] != "201" {
				t.Fatalf("group: %v", r)
			}
			groupLoc = loc
		default:
			if r["status"] != "200" || r["method"] != "PATCH" || r["version"] == nil {
				t.Fatalf("patch: %v", r)
			}
		}
	}
	code, g := c.do("GET", strings.TrimPrefix(groupLoc, c.base), "")
	members, _ := g["members"].([]any)
	if code != 200 || len(members) != 1 || members[0].(map[string]any)["value"] != userID {
		t.Fatalf("group %d %v: its member is not the user %s the bulk created", code, g, userID)
	}
	var order []string
	for _, r := range seen() {
		if r.method != "GET" {
			order = append(order, r.method+" "+r.path)
		}
	}
	// The group waits for the user it references; the rest keeps its order.
	want := []string{"POST /scim/v2/Users", "PATCH /scim/v2/Users/" + userID, "POST /scim/v2/Groups"}
	if !slices.Equal(order, want) {
		t.Fatalf("upstream writes %v, want %v", order, want)
	}

	// failOnErrors 1: the duplicate user fails, the group after it is not sent.
	before := len(seen())
	code, b = c.do("POST", "/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":1,"Operations":[
		{"method":"POST","path":"/Users","bulkId":"dup","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bulk@example.com"}},
		{"method":"POST","path":"/Groups","bulkId":"g2","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Ops"}}]}`)
	ops, _ = b["Operations"].([]any)
	if code != 200 || len(ops) != 1 {
		t.Fatalf("failOnErrors: %d %v", code, b)
	}
	r := ops[0].(map[string]any)
	if resp, _ := r["response"].(map[string]any); r["status"] != "409" || resp["scimType"] != "uniqueness" {
		t.Fatalf("duplicate: %v", r)
	}
	for _, r := range seen()[before:] {
		if strings.HasSuffix(r.path, "/Groups") {
			t.Fatal("an operation after failOnErrors was reached was sent upstream")
		}
	}
	// A reference to a failed operation fails without being sent.
	code, b = c.do("POST", "/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
		{"method":"POST","path":"/Users","bulkId":"dup","data":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bulk@example.com"}},
		{"method":"DELETE","path":"/Users/bulkId:dup"}]}`)
	ops, _ = b["Operations"].([]any)
	if code != 200 || len(ops) != 2 || ops[1].(map[string]any)["status"] != "400" {
		t.Fatalf("reference to a failed operation: %d %v", code, b)
	}
	// Bad input is refused whole, before anything is sent.
	before = len(seen())
	if code, e := c.do("POST", "/scim/v2/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[
		{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"a@example.com"}},
		{"method":"POST","path":"/Users","data":{"userName":"b@example.com"}}]}`); code != 400 || e["scimType"] != "invalidSyntax" {
		t.Fatalf("POST without bulkId: %d %v", code, e)
	}
	if n := len(seen()) - before; n != 0 {
		t.Fatalf("a refused bulk sent %d requests upstream", n)
	}
}
