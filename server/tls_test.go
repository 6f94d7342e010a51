package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// selfSigned returns a PEM certificate for 127.0.0.1 and its PEM key.
func selfSigned(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "scimgate test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// writePair writes the pair and dates both files at mod.
func writePair(t *testing.T, certFile, keyFile string, cert, key []byte, mod time.Time) {
	t.Helper()
	for f, b := range map[string][]byte{certFile: cert, keyFile: key} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
}

// pairs are two certificate/key pairs (serials 1 and 2) and the file
// names, holding the first pair dated t0.
type pairs struct {
	cert, key      string
	c1, k1, c2, k2 []byte
	t0             time.Time
}

func newPairs(t *testing.T) pairs {
	dir := t.TempDir()
	p := pairs{cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key"), t0: time.Now().Add(-time.Minute)}
	p.c1, p.k1 = selfSigned(t, 1)
	p.c2, p.k2 = selfSigned(t, 2)
	writePair(t, p.cert, p.key, p.c1, p.k1, p.t0)
	return p
}

// TestRunServesTLSAndReloads runs the real listener with TLS: it serves
// HTTPS with the configured certificate, refuses TLS 1.1, and after the
// files are replaced new handshakes get the new certificate; a broken pair
// keeps the previous one.
func TestRunServesTLSAndReloads(t *testing.T) {
	f := newPairs(t)
	certFile, keyFile, c1, k1, c2, k2, t0 := f.cert, f.key, f.c1, f.k1, f.c2, f.k2, f.t0

	const every = 50 * time.Millisecond
	log := slog.New(slog.DiscardHandler)
	rl, err := NewCertReloader(certFile, keyFile, every, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc, done := make(chan net.Addr, 1), make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) })
	go func() {
		done <- Run(ctx, Listen{Addr: "127.0.0.1:0", Grace: time.Second, TLS: rl.TLSConfig()}, h, log, func(a net.Addr) { addrc <- a })
	}()
	addr := (<-addrc).String()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	// serial returns the serial of the certificate a new handshake gets,
	// trusting only want's certificate.
	serial := func(trust []byte) int64 {
		t.Helper()
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(trust)
		conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(c1); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}
	// A real HTTPS request (HTTP/2 offered by ALPN).
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c1)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "HTTP/2.0" {
		t.Fatalf("https GET: %d %q", resp.StatusCode, body)
	}
	// TLS 1.2 is the minimum.
	if conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil { //nolint:gosec // probing the server's minimum
		conn.Close()
		t.Fatal("TLS 1.1 handshake accepted")
	}

	// A half-replaced pair (new certificate, old key) does not load: the
	// previous certificate stays in use.
	writePair(t, certFile, keyFile, c2, k1, t0.Add(time.Second))
	time.Sleep(2 * every)
	if got := serial(c1); got != 1 {
		t.Fatalf("mismatched pair served: serial %d", got)
	}
	// The complete new pair is served to new handshakes after the interval.
	writePair(t, certFile, keyFile, c2, k2, t0.Add(2*time.Second))
	time.Sleep(2 * every)
	if got := serial(c2); got != 2 {
		t.Fatalf("after reload serial %d, want 2", got)
	}
}

// TestCertReloaderChecksAtMostEveryInterval: within the interval a changed
// file is not even looked at; after it, it is.
func TestCertReloaderChecksAtMostEveryInterval(t *testing.T) {
	f := newPairs(t)
	certFile, keyFile, c2, k2, t0 := f.cert, f.key, f.c2, f.k2, f.t0
	rl, err := NewCertReloader(certFile, keyFile, 5*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rl.now = func() time.Time { return now }
	writePair(t, certFile, keyFile, c2, k2, t0.Add(time.Second))
	leaf := func() int64 {
		c, _ := rl.GetCertificate(nil)
		x, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return x.SerialNumber.Int64()
	}
	now = now.Add(4 * time.Second)
	if got := leaf(); got != 1 {
		t.Fatalf("reloaded within the interval: %d", got)
	}
	now = now.Add(2 * time.Second)
	if got := leaf(); got != 2 {
		t.Fatalf("not reloaded after the interval: %d", got)
	}
	// Missing files at start are an error naming the file.
	if _, err := NewCertReloader(certFile+".missing", keyFile, time.Second, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("missing certificate accepted")
	}
}
