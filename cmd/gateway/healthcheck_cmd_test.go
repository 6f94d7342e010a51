package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimgate/scimgate/config"
)

func TestHealthcheckCommand(t *testing.T) {
	base, _ := startGateway(t, config.Default())
	var out lockedBuf
	if err := run(context.Background(), []string{"healthcheck", "--url", base + "/healthz"}, &out, &out, noEnv); err != nil {
		t.Fatalf("healthy gateway: %v", err)
	}
	// The default URL comes from SCIMGATE_LISTEN, wildcard host -> loopback.
	port := base[strings.LastIndex(base, ":")+1:]
	env := func(k string) (string, bool) {
		if k == "SCIMGATE_LISTEN" {
			return "0.0.0.0:" + port, true
		}
		return "", false
	}
	if err := run(context.Background(), []string{"healthcheck"}, &out, &out, env); err != nil {
		t.Fatalf("default URL from SCIMGATE_LISTEN: %v", err)
	}

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer down.Close()
	err := run(context.Background(), []string{"healthcheck", "--url", down.URL}, &out, &out, noEnv)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("503 answer: err = %v, want a failure naming 503", err)
	}
	var u usageError
	if errors.As(err, &u) {
		t.Error("an unhealthy answer must exit 1, not the usage status 2")
	}
	if err := run(context.Background(), []string{"healthcheck", "--url", "http://127.0.0.1:1/healthz"}, &out, &out, noEnv); err == nil {
		t.Fatal("nothing listening: healthcheck succeeded")
	}
}

func TestHealthURL(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0:8080":   "http://127.0.0.1:8080/healthz",
		":9000":          "http://127.0.0.1:9000/healthz",
		"[::]:8080":      "http://127.0.0.1:8080/healthz",
		"10.1.2.3:8080":  "http://10.1.2.3:8080/healthz",
		"127.0.0.1:8080": "http://127.0.0.1:8080/healthz",
	} {
		if got, err := healthURL(in); err != nil || got != want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := healthURL("no-port"); err == nil {
		t.Error("healthURL accepted an address without a port")
	}
}
