package main

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/config"
)

// servedRoutes runs serve (embedded Redis) until it listens and returns
// every route it mounted as "METHOD /path" in gin's form.
func servedRoutes(t *testing.T) []string {
	t.Helper()
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	var mu sync.Mutex
	var routes []string
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	cio := cliIO{stdout: &lockedBuf{}, stderr: &lockedBuf{}, env: noEnv, onRoute: func(method, path string) {
		mu.Lock()
		routes = append(routes, method+" "+path)
		mu.Unlock()
	}}
	go func() { done <- serve(ctx, cfg, cio, func(net.Addr) { cancel() }) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start within 30s")
	}
	mu.Lock()
	defer mu.Unlock()
	return routes
}

// TestOpenAPIMatchesAdminRoutes is the guard of the admin API
// description: every route the gateway serves under /admin/api/v1 must
// be documented in adminapi/openapi.yaml, and every documented operation
// must be served.
func TestOpenAPIMatchesAdminRoutes(t *testing.T) {
	doc, err := adminapi.LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, op := range doc.Operations {
		method, path, _ := strings.Cut(op, " ")
		documented[method+" "+adminapi.Prefix+adminapi.GinPath(path)] = true
	}
	routes := servedRoutes(t)
	served := map[string]bool{}
	for _, r := range routes {
		_, path, _ := strings.Cut(r, " ")
		if strings.HasPrefix(path, adminapi.Prefix+"/") {
			served[r] = true
		}
	}
	if len(served) == 0 {
		t.Fatal("no admin routes served: is the admin API mounted?")
	}
	for r := range served {
		if !documented[r] {
			t.Errorf("admin route %s is not in adminapi/openapi.yaml", r)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("documented operation %s is not served", op)
		}
	}
	if !slices.Contains(routes, "GET "+adminapi.OpenAPIPath) {
		t.Errorf("GET %s is not served", adminapi.OpenAPIPath)
	}
}
