package scimapi_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/redistest"
)

// replay is a recorded IdP conversation under testdata/idp: each step is a
// request as the IdP sends it, the status it must get and a subset of the
// response it must contain. "${name}" is replaced by a value a previous step
// saved.
type replay struct {
	Description string `json:"description"`
	Prefix      string `json:"prefix"`
	Steps       []struct {
		Name   string            `json:"name"`
		Method string            `json:"method"`
		Path   string            `json:"path"`
		Body   json.RawMessage   `json:"body"`
		Status int               `json:"status"`
		Expect map[string]any    `json:"expect"`
		Save   map[string]string `json:"save"`
	} `json:"steps"`
}

// TestIdPReplays plays the Entra, Okta and Keycloak conversations on both
// Redis backends.
func TestIdPReplays(t *testing.T) {
	files, err := filepath.Glob("testdata/idp/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no replays: %v", err)
	}
	redistest.Run(t, func(t *testing.T, r *redistest.Redis) {
		for _, f := range files {
			t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
				sub := *r
				sub.Prefix = r.Prefix + filepath.Base(f) + ":"
				runReplay(t, newEnv(t, &sub, false), f)
			})
		}
	})
}

func runReplay(t *testing.T, e *env, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rp replay
	if err := json.Unmarshal(raw, &rp); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	prefix := rp.Prefix
	if prefix == "" {
		prefix = "/scim/v2"
	}
	vars := map[string]string{}
	subst := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "${"+k+"}", v)
		}
		return s
	}
	for i, st := range rp.Steps {
		var body any
		if len(st.Body) > 0 {
			body = subst(string(st.Body))
		}
		res := e.do(st.Method, prefix+subst(st.Path), body)
		if res.code != st.Status {
			t.Fatalf("step %d (%s): status %d, want %d: %s", i, st.Name, res.code, st.Status, res.raw)
		}
		for path, want := range st.Expect {
			if s, ok := want.(string); ok {
				want = subst(s)
			}
			got := lookupPath(res.body, path)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("step %d (%s): %s = %#v, want %#v", i, st.Name, path, got, want)
			}
		}
		for name, path := range st.Save {
			vars[name] = fmt.Sprint(lookupPath(res.body, path))
		}
	}
}

// lookupPath reads "a.b.0.c" from a decoded JSON document; a leading URN
// (which contains dots itself) is one segment: "urn:…:2.0:User.department".
func lookupPath(doc map[string]any, path string) any {
	var segs []string
	if strings.HasPrefix(path, "urn:") {
		last := strings.LastIndex(path, ":")
		if dot := strings.Index(path[last:], "."); dot >= 0 {
			segs = append(segs, path[:last+dot])
			path = path[last+dot+1:]
		} else {
			segs, path = append(segs, path), ""
		}
	}
	if path != "" {
		segs = append(segs, strings.Split(path, ".")...)
	}
	var v any = doc
	for _, s := range segs {
		switch x := v.(type) {
		case map[string]any:
			v = x[s]
		case []any:
			i, err := strconv.Atoi(s)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}
