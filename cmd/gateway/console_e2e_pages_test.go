package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// browserSteps are TestConsoleInBrowser's helpers: run does actions (with
// a screenshot on failure), value reads one, shot takes a screenshot.
type browserSteps struct {
	run   func(what string, actions ...chromedp.Action[chromedp.Void])
	value func(what string, a chromedp.Action[string]) string
	shot  func(name string) chromedp.Action[chromedp.Void]
}

// consolePagesInBrowser covers the client list's search and paging, the
// client form's method sections (hidden by the script) and the edit of
// an IdP client's settings, and the audit page on a phone-sized viewport
// (newest first, no header row, nothing wider than the screen).
func consolePagesInBrowser(t *testing.T, base, admin string, b browserSteps) {
	t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	for i := range 51 {
		body := fmt.Sprintf(`{"name":"page-e2e-%02d"}`, i)
		if got := adminRequest(t, base, admin, http.MethodPost, "/admin/api/v1/clients", body, nil); got != http.StatusCreated {
			t.Fatalf("create client %d: %d", i, got)
		}
	}
	b.run("client list pages and search",
		chromedp.Navigate(base+"/admin/clients"),
		chromedp.WaitVisible(css("#next-page")),
		b.shot("clients-page-1"),
		chromedp.Click(css("#next-page")),
		chromedp.WaitVisible(css("#first-page")),
		b.shot("clients-page-2"),
		chromedp.SendKeys(css("#q"), "PAGE-E2E-4"),
		chromedp.Submit(css("#q")),
		chromedp.WaitVisible(css(`input#q[value="PAGE-E2E-4"]`)),
		b.shot("clients-search"),
	)
	if rows := b.value("read the search result", chromedp.Text(css("#clients tbody"))); !strings.Contains(rows, "page-e2e-40") ||
		!strings.Contains(rows, "page-e2e-49") || strings.Contains(rows, "page-e2e-39") || strings.Contains(rows, "keycloak") {
		t.Fatalf("search PAGE-E2E-4 lists %q", rows)
	}

	b.run("client form shows the chosen method's settings",
		chromedp.Navigate(base+"/admin/clients/new"),
		chromedp.WaitVisible(css("#client-form")),
		chromedp.WaitNotVisible(css("#settings-idp_jwt")),
		chromedp.WaitNotVisible(css("#settings-client_credentials")),
		b.shot("client-form-static"),
		chromedp.Click(css(`input[name="method"][value="idp_jwt"]`)),
		chromedp.WaitVisible(css("#settings-idp_jwt")),
		chromedp.WaitNotVisible(css("#settings-client_credentials")),
		chromedp.SendKeys(css("#name"), "kc-idp-e2e"),
		chromedp.SendKeys(css("#issuer"), "https://idp.example.com/realms/e2e"),
		chromedp.SendKeys(css("#subject"), "sa-e2e"),
		chromedp.SendKeys(css("#audience"), "scimgate"),
		b.shot("client-form-idp"),
		chromedp.Click(css("#create-client")),
		chromedp.WaitVisible(css("#done")),
		chromedp.Click(css("#done")),
		chromedp.WaitVisible(css("#edit-idp")),
		chromedp.SetValue(css("#subject"), "sa-e2e-2"),
		chromedp.SetValue(css("#rate_limit"), "20/s"),
		b.shot("client-edit-idp"),
		chromedp.Click(css("#save-client")),
		chromedp.WaitVisible(css(".notice")),
		b.shot("client-edited"),
	)
	var cl struct {
		Subject   string `json:"subject"`
		RateLimit *struct {
			Rate string `json:"rate"`
		} `json:"rate_limit"`
	}
	if got := adminRequest(t, base, admin, http.MethodGet, "/admin/api/v1/clients/kc-idp-e2e", "", &cl); got != http.StatusOK ||
		cl.Subject != "sa-e2e-2" || cl.RateLimit == nil || cl.RateLimit.Rate != "20/s" {
		t.Fatalf("client after the console edit: %d %+v", got, cl)
	}

	b.run("audit page on a phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/admin/audit"),
		chromedp.WaitVisible(css("#events")),
		b.shot("audit-narrow"),
	)
	newest := b.value("read the newest event", chromedp.Text(css(`#events tbody tr:first-child td[data-label="Action"]`)))
	head := b.value("read the header's display", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#events thead")).display`))
	wider := b.value("read the overflow", chromedp.Evaluate[string](`String(document.documentElement.scrollWidth - document.documentElement.clientWidth)`))
	b.run("back to the desktop size", chromedp.EmulateViewport(1280, 900))
	if !strings.Contains(newest, "CLIENT_UPDATED") || head != "none" || wider != "0" {
		t.Fatalf("audit on 390 px: newest %q (want CLIENT_UPDATED), thead display %q (want none), %s px wider than the screen",
			newest, head, wider)
	}
}

// adminRequest calls the admin API with the admin token and decodes a
// JSON answer into out (when not nil); it returns the status.
func adminRequest(t *testing.T, base, admin, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}
