package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimgate/scimgate/config"
)

// TestServeTLS: with tls.cert_file/tls.key_file the gateway serves HTTPS
// (and nothing in clear), logs an https SCIM base, and `gateway
// healthcheck` probes it over https when SCIMGATE_TLS_CERT_FILE is set.
func TestServeTLS(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := t.TempDir()
	cfg := config.Default()
	cfg.TLS.CertFile, cfg.TLS.KeyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(cfg.TLS.CertFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.TLS.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base, logs := startGateway(t, cfg)
	addr := strings.TrimPrefix(base, "http://")

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("https /healthz: %d", resp.StatusCode)
	}
	// Clear HTTP gets Go's 400 "client sent an HTTP request to an HTTPS server".
	if got := status(t, base+"/healthz"); got != http.StatusBadRequest {
		t.Fatalf("plain HTTP to the TLS listener: %d", got)
	}
	if !strings.Contains(logs.String(), "scim_base=https://"+addr+"/scim/v2") {
		t.Fatalf("listening line without the https base: %s", logs.String())
	}
	env := func(k string) (string, bool) {
		switch k {
		case "SCIMGATE_LISTEN":
			return addr, true
		case "SCIMGATE_TLS_CERT_FILE":
			return cfg.TLS.CertFile, true
		}
		return "", false
	}
	var out lockedBuf
	if err := run(context.Background(), []string{"healthcheck"}, &out, &out, env); err != nil {
		t.Fatalf("healthcheck over https: %v", err)
	}
	// A pair that does not load stops the start with the keys named.
	bad := config.Default()
	bad.TLS.CertFile, bad.TLS.KeyFile = cfg.TLS.KeyFile, cfg.TLS.CertFile
	bad.Listen = "127.0.0.1:0"
	err = serve(context.Background(), bad, cliIO{stdout: &out, stderr: &out, env: noEnv}, nil)
	if err == nil || !strings.Contains(err.Error(), "tls.cert_file") {
		t.Fatalf("swapped files: %v", err)
	}
}
