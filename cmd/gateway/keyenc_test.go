package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scimgate/scimgate/config"
)

// TestWrongKeyEncryptionKeyStopsStart: signing keys sealed with one
// oauth.key_encryption_key make a gateway configured with another refuse
// to start, naming the key; the right one starts.
func TestWrongKeyEncryptionKeyStopsStart(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server not installed; CI must run this test")
		}
		t.Skip("redis-server not installed")
	}
	port := freePort(t)
	srv := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port)})
	defer rdb.Close()
	for deadline := time.Now().Add(5 * time.Second); rdb.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}
	cfg := config.Default()
	cfg.Redis.URL = "redis://127.0.0.1:" + strconv.Itoa(port)
	cfg.Admin.TokenHash = "0000000000000000000000000000000000000000000000000000000000000000"
	cfg.OAuth.KeyEncryptionKeyB64 = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	ks, err := newKeyStore(rdb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Current(context.Background()); err != nil {
		t.Fatal(err)
	}

	wrong := cfg
	wrong.OAuth.KeyEncryptionKeyB64 = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logs := &lockedBuf{}
	err = serve(ctx, wrong, cliIO{stdout: logs, stderr: logs, env: noEnv}, nil)
	var ke *config.KeyError
	if !errors.As(err, &ke) || ke.Key != "oauth.key_encryption_key" {
		t.Fatalf("wrong key: serve = %v, want a KeyError for oauth.key_encryption_key", err)
	}
	if base, _ := startGateway(t, cfg); status(t, base+"/readyz") != 200 {
		t.Fatal("right key: not ready")
	}
}
