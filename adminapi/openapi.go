package adminapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"
)

// OpenAPIPath is where the admin API's OpenAPI 3 document is served.
const OpenAPIPath = "/admin/api/openapi.json"

// openAPIYAML is the document's source; it is written in YAML for
// readability and served as JSON.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPI is the parsed admin API description.
type OpenAPI struct {
	// JSON is the document as served.
	JSON []byte
	// Operations lists every documented operation as "METHOD /path", the
	// path under Prefix with {param} placeholders.
	Operations []string
}

// LoadOpenAPI parses the embedded document.
func LoadOpenAPI() (OpenAPI, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return OpenAPI{}, fmt.Errorf("openapi.yaml: %w", err)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return OpenAPI{}, fmt.Errorf("openapi.yaml to JSON: %w", err)
	}
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		return OpenAPI{}, fmt.Errorf("openapi.yaml: no paths")
	}
	var ops []string
	for path, item := range paths {
		methods, ok := item.(map[string]any)
		if !ok {
			return OpenAPI{}, fmt.Errorf("openapi.yaml: path %s is not a mapping", path)
		}
		for m := range methods {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options":
				ops = append(ops, strings.ToUpper(m)+" "+path)
			}
		}
	}
	return OpenAPI{JSON: raw, Operations: ops}, nil
}

// MountOpenAPI serves the document at OpenAPIPath. It needs no credential:
// it describes the API, it grants nothing.
func MountOpenAPI(r gin.IRoutes) error {
	doc, err := LoadOpenAPI()
	if err != nil {
		return err
	}
	r.GET(OpenAPIPath, func(c *gin.Context) {
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "application/json", doc.JSON)
	})
	return nil
}

// GinPath turns an OpenAPI path ("/clients/{id}") into gin's form
// ("/clients/:id").
func GinPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			parts[i] = ":" + s[1:len(s)-1]
		}
	}
	return strings.Join(parts, "/")
}
