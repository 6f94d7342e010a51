package adminapi_test

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/redistest"
)

func TestClientsListPaging(t *testing.T) {
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		ev := newEnv(t, r, mustCred(t, adminToken, ""))
		for i := range 5 {
			expect(t, "create", ev.admin("POST", "/clients", fmt.Sprintf(`{"name":"Entra-%d"}`, i), nil), 201, "")
		}
		expect(t, "create", ev.admin("POST", "/clients", `{"name":"okta"}`, nil), 201, "")

		var names []string
		path := "/clients?limit=2&q=ENTRA"
		for pages := 0; ; pages++ {
			var p adminapi.ClientPageJSON
			expect(t, "page", ev.admin("GET", path, "", &p), 200, "")
			if len(p.Clients) > 2 || pages > 5 {
				t.Fatalf("page %d: %d clients", pages, len(p.Clients))
			}
			for _, c := range p.Clients {
				names = append(names, c.Name)
			}
			if p.NextCursor == "" {
				break
			}
			path = "/clients?limit=2&q=ENTRA&cursor=" + url.QueryEscape(p.NextCursor)
		}
		if strings.Join(names, ",") != "Entra-0,Entra-1,Entra-2,Entra-3,Entra-4" {
			t.Fatalf("paged search = %v", names)
		}
		var p adminapi.ClientPageJSON
		expect(t, "default limit", ev.admin("GET", "/clients", "", &p), 200, "")
		if len(p.Clients) != 6 || p.NextCursor != "" {
			t.Fatalf("default page = %d clients, next %q", len(p.Clients), p.NextCursor)
		}
		for _, bad := range []string{"limit=0", "limit=201", "limit=x", "cursor=%25%25", "q=" + strings.Repeat("a", 201)} {
			w := ev.admin("GET", "/clients?"+bad, "", nil)
			expect(t, bad, w, 400, `"field"`)
		}
	})
}

// TestClientsPagingAdvertised: the page size limits in openapi.yaml are
// the ones the handler applies.
func TestClientsPagingAdvertised(t *testing.T) {
	spec, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("{name: limit, in: query, schema: {type: integer, minimum: 1, maximum: %d, default: %d}}",
		adminapi.MaxClientPage, adminapi.DefaultClientPage)
	if !strings.Contains(string(spec), want) {
		t.Fatalf("openapi.yaml does not advertise %s", want)
	}
}
