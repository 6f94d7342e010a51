package adminapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
)

func TestOpenAPIServedAsJSON(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	if err := adminapi.MountOpenAPI(e); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, adminapi.OpenAPIPath, nil))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("GET %s: %d %s", adminapi.OpenAPIPath, rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Servers []struct{ URL string }    `json:"servers"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != adminapi.Prefix {
		t.Errorf("servers = %+v, want one with url %s", doc.Servers, adminapi.Prefix)
	}
	if len(doc.Paths) == 0 {
		t.Error("no paths")
	}
}

// TestOpenAPIWellFormed checks what a generic validator would: unique
// operation ids, responses on every operation, every $ref resolvable, no
// key without a value and every {param} of a path declared as a path
// parameter.
func TestOpenAPIWellFormed(t *testing.T) {
	doc, err := adminapi.LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(doc.JSON, &root); err != nil {
		t.Fatal(err)
	}
	checkRefs(t, root, root)
	ids := map[string]string{}
	for path, item := range root["paths"].(map[string]any) {
		pathItem := item.(map[string]any)
		declared := map[string]bool{}
		collectPathParams(root, pathItem["parameters"], declared)
		for method, opv := range pathItem {
			if method == "parameters" {
				continue
			}
			op := opv.(map[string]any)
			where := strings.ToUpper(method) + " " + path
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Errorf("%s: no operationId", where)
			} else if prev, dup := ids[id]; dup {
				t.Errorf("%s: operationId %s already used by %s", where, id, prev)
			}
			ids[id] = where
			if rs, _ := op["responses"].(map[string]any); len(rs) == 0 {
				t.Errorf("%s: no responses", where)
			}
			params := map[string]bool{}
			for k := range declared {
				params[k] = true
			}
			collectPathParams(root, op["parameters"], params)
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
				if !params[m[1]] {
					t.Errorf("%s: path parameter %s not declared", where, m[1])
				}
			}
		}
	}
}

func collectPathParams(root map[string]any, list any, into map[string]bool) {
	ps, _ := list.([]any)
	for _, p := range ps {
		pm := p.(map[string]any)
		if ref, ok := pm["$ref"].(string); ok {
			pm = resolve(root, ref).(map[string]any)
		}
		if pm["in"] == "path" {
			into[pm["name"].(string)] = true
		}
	}
}

func resolve(root map[string]any, ref string) any {
	var cur any = root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

func checkRefs(t *testing.T, root map[string]any, v any) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok && resolve(root, ref) == nil {
			t.Errorf("unresolvable $ref %s", ref)
		}
		for k, c := range x {
			if c == nil { // a stray comma in a YAML flow mapping makes a key with no value
				t.Errorf("key %q has no value", k)
			}
			checkRefs(t, root, c)
		}
	case []any:
		for _, c := range x {
			checkRefs(t, root, c)
		}
	}
}

func TestGinPath(t *testing.T) {
	if got := adminapi.GinPath("/clients/{id}/tokens/{tokenId}/revoke"); got != "/clients/:id/tokens/:tokenId/revoke" {
		t.Errorf("GinPath = %q", got)
	}
}
