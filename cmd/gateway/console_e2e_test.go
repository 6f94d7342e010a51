package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/scimgate/scimgate/config"
)

// chromiumPath finds the browser for the end-to-end test: $SCIMGATE_CHROMIUM,
// else chromium on PATH. Missing, the test skips, except under CI=true,
// where it fails: CI installs Debian's chromium (.ci/run).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SCIMGATE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not installed; CI must run the browser test (apt-get install chromium)")
	}
	t.Skip("chromium not installed (apt-get install chromium)")
	return ""
}

// artifactDir is where screenshots go: $SCIMGATE_TEST_ARTIFACTS, else the
// git-ignored testdata/artifacts at the repository root.
func artifactDir(t *testing.T, name string) string {
	t.Helper()
	base := os.Getenv("SCIMGATE_TEST_ARTIFACTS")
	if base == "" {
		base = filepath.Join("..", "..", "testdata", "artifacts")
	}
	dir := filepath.Join(base, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestConsoleInBrowser drives the admin console of the real gateway wiring
// (serve, embedded Redis) in headless Chromium: sign in, create a SCIM
// client, read its token from the one-time dialog, use it on
// /scim/v2/Users (200), revoke it in the console and see SCIM refuse it
// (401) within about a second.
func TestConsoleInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	shots := artifactDir(t, "console-e2e")
	const admin = "opadm-e2e-console-admin-token"
	cfg := config.Default()
	cfg.Admin.Token = admin
	base, logs := startGateway(t, cfg)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	// The first action starts the browser, which lives as long as the
	// context of that call: no timeout on it, a timeout on the rest.
	if err := chromedp.Do(bctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// within bounds one browser step, so a hang fails with a screenshot.
	within := func(d time.Duration) (context.Context, context.CancelFunc) { return context.WithTimeout(bctx, d) }

	step := 0
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			step++
			return os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", step, name)), buf, 0o644)
		})
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := within(20 * time.Second)
		defer cancel()
		for i, a := range actions {
			if err := chromedp.Do(ctx, a); err != nil {
				sctx, scancel := within(10 * time.Second)
				defer scancel()
				_ = chromedp.Do(sctx, shot("failed-"+strings.ReplaceAll(what, " ", "-")))
				t.Fatalf("%s, action %d: %v", what, i, err)
			}
		}
	}
	value := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		ctx, cancel := within(10 * time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	run("sign in",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(css("#token")),
		shot("sign-in"),
		chromedp.SendKeys(css("#token"), admin),
		chromedp.Submit(css("#token")),
		chromedp.WaitVisible(css("#new-client")),
		shot("clients"),
	)

	run("create a client",
		chromedp.Click(css("#new-client")),
		chromedp.WaitVisible(css("#client-form")),
		chromedp.SendKeys(css("#name"), "keycloak-e2e"),
		chromedp.SendKeys(css("#provider"), "Keycloak"),
		shot("new-client-form"),
		chromedp.Click(css("#create-client")),
		chromedp.WaitVisible(css("#secret-token")),
		// Visible means the script un-hid it (JavaScript is on here).
		chromedp.WaitVisible(css(`button[data-copy="secret-token"]`)),
		shot("token-dialog"),
	)
	token := value("read the token", chromedp.Value(css("#secret-token")))
	if !strings.HasPrefix(token, "opst-") {
		t.Fatalf("dialog shows %q, not an opst- token", token)
	}
	if got := scimStatus(t, base, token); got != http.StatusOK {
		t.Fatalf("GET /scim/v2/Users with the new token: %d, want 200", got)
	}

	run("revoke the token",
		chromedp.Click(css("#done")),
		chromedp.WaitVisible(css("#tokens")),
		shot("client-page"),
		chromedp.Click(css("#tokens a.danger-link")),
		chromedp.WaitVisible(css("#confirm")),
		shot("revoke-confirmation"),
		chromedp.Click(css("#confirm")),
		chromedp.WaitVisible(css("#tokens .label.revoked")),
		shot("revoked"),
	)
	revoked := time.Now()
	if status := value("read the status label", chromedp.Text(css("#tokens .label"))); status != "revoked" {
		t.Fatalf("token status label %q after revoking", status)
	}
	for {
		got := scimStatus(t, base, token)
		if got == http.StatusUnauthorized {
			t.Logf("SCIM refused the revoked token %v after the console confirmed", time.Since(revoked).Round(time.Millisecond))
			break
		}
		if got != http.StatusOK {
			t.Fatalf("GET /scim/v2/Users after revocation: %d", got)
		}
		if time.Since(revoked) > 2*time.Second {
			t.Fatal("the revoked token still opens SCIM 2s after revocation (tokens.cache_ttl is 1s)")
		}
		time.Sleep(50 * time.Millisecond)
	}

	run("audit page",
		chromedp.Click(css(`a[href="/admin/audit"]`)),
		chromedp.WaitVisible(css("#events")),
		shot("audit"),
	)
	run("credential report",
		chromedp.Click(css(`a[href="/admin/reports/credentials"]`)),
		chromedp.WaitVisible(css("#credentials .label.revoked")),
		shot("credential-report"),
	)
	run("create a directory",
		chromedp.Click(css(`a[href="/admin/directories"]`)),
		chromedp.WaitVisible(css("#directory-form")),
		chromedp.SendKeys(css("#dir-name"), "acme-e2e"),
		chromedp.SendKeys(css("#max_users"), "100"),
		chromedp.Click(css("#create-directory")),
		chromedp.WaitVisible(css(".notice")),
		shot("directories"),
	)
	if list := value("read the directories", chromedp.Text(css("#directories"))); !strings.Contains(list, "acme-e2e") || !strings.Contains(list, "100") {
		t.Fatalf("directories list: %q", list)
	}
	run("create a client in the directory",
		chromedp.Navigate(base+"/admin/clients/new?directory=acme-e2e"),
		chromedp.WaitVisible(css("#client-form")),
		chromedp.SendKeys(css("#name"), "okta-e2e"),
		chromedp.Click(css("#create-client")),
		chromedp.WaitVisible(css("#secret-token")),
	)
	acmeToken := value("read the directory's token", chromedp.Value(css("#secret-token")))
	run("the client page shows the directory",
		chromedp.Click(css("#done")),
		chromedp.WaitVisible(css("#client-directory")),
	)
	if dir := value("read the client's directory", chromedp.Text(css("#client-directory"))); dir != "acme-e2e" {
		t.Fatalf("client page directory %q", dir)
	}
	if got := scimStatus(t, base, acmeToken); got != http.StatusOK {
		t.Fatalf("GET /scim/v2/Users with the directory client's token: %d, want 200", got)
	}
	// "Did the IdP create this user?": a user provisioned over SCIM shows
	// in the directory's Users browser, found by the search box.
	for _, u := range []string{"ada@acme.example", "grace@acme.example", `<script>alert(1)</script>`} {
		if got := scimCreateUser(t, base, acmeToken, u); got != http.StatusCreated {
			t.Fatalf("POST /scim/v2/Users %q: %d, want 201", u, got)
		}
	}
	run("browse the directory's users",
		chromedp.Navigate(base+"/admin/directories"),
		chromedp.WaitVisible(css("#directories")),
		chromedp.Click(css(`#directories a.browse-users[href$="/users"]:not([href*="/default/"])`)),
		chromedp.WaitVisible(css("#resources")),
		shot("users"),
		chromedp.SendKeys(css("#q"), "grace"),
		chromedp.Submit(css("#q")),
		chromedp.WaitVisible(css("#scim-filter")),
		shot("users-search"),
	)
	if rows := value("read the search result", chromedp.Text(css("#resources tbody"))); !strings.Contains(rows, "grace@acme.example") || strings.Contains(rows, "ada@") {
		t.Fatalf("search for grace lists %q", rows)
	}
	run("open the user",
		chromedp.Click(css("#resources td.name a")),
		chromedp.WaitVisible(css("#attributes")),
		shot("user"),
	)
	if attrs := value("read the user's attributes", chromedp.Text(css("#attributes"))); !strings.Contains(attrs, "grace@acme.example") {
		t.Fatalf("user page attributes %q", attrs)
	}
	consolePagesInBrowser(t, base, admin, browserSteps{run: run, value: value, shot: shot})
	if l := logs.String(); strings.Contains(l, token) || strings.Contains(l, admin) || strings.Contains(l, acmeToken) {
		t.Fatal("a token reached the gateway's output")
	}
	t.Logf("screenshots in %s", shots)
}

func scimStatus(t *testing.T, base, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/scim/v2/Users", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// scimCreateUser provisions a user over SCIM with token and returns the
// status.
func scimCreateUser(t *testing.T, base, token, userName string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": userName})
	req, err := http.NewRequest(http.MethodPost, base+"/scim/v2/Users", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
