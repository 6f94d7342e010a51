package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Webhooks configures delivery of the change-event stream to HTTP
// subscribers (package webhook). With no URLs nothing is delivered; the
// stream is still written for consumers that read it themselves.
type Webhooks struct {
	URLs string `yaml:"urls" doc:"comma-separated http(s) URLs that receive every change event as a signed JSON POST; empty: no webhooks"`
	// Secret keys the HMAC-SHA256 signature; required when URLs is set.
	Secret         string   `yaml:"secret" secret:"true" doc:"shared secret for the X-Scimgate-Signature HMAC-SHA256 (required with webhooks.urls; at least 16 characters)"`
	MaxAttempts    int      `yaml:"max_attempts" doc:"delivery attempts per event before it goes to the subscriber's dead-letter stream"`
	BackoffInitial Duration `yaml:"backoff_initial" doc:"wait after the first failed attempt; doubles per failure (with jitter) up to webhooks.backoff_max"`
	BackoffMax     Duration `yaml:"backoff_max" doc:"longest wait between two attempts"`
	Timeout        Duration `yaml:"timeout" doc:"time limit of one delivery attempt"`
	Directories    string   `yaml:"directories" doc:"comma-separated directory names or ids whose events the webhooks receive; empty: every directory"`
}

func defaultWebhooks() Webhooks {
	return Webhooks{
		MaxAttempts:    8,
		BackoffInitial: Duration(time.Second),
		BackoffMax:     Duration(time.Minute),
		Timeout:        Duration(10 * time.Second),
	}
}

// URLList splits URLs into its entries.
func (w Webhooks) URLList() []string { return splitList(w.URLs) }

// DirectoryList splits Directories into its entries.
func (w Webhooks) DirectoryList() []string { return splitList(w.Directories) }

func splitList(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

func (w Webhooks) validate() error {
	urls := w.URLList()
	checks := []struct {
		key string
		err error
	}{
		{"webhooks.urls", checkWebhookURLs(urls)},
		{"webhooks.secret", checkWebhookSecret(w.Secret, len(urls) > 0)},
		{"webhooks.max_attempts", checkIntRange(int64(w.MaxAttempts), 1, 100)},
		{"webhooks.backoff_initial", checkRange(time.Duration(w.BackoffInitial), time.Millisecond, time.Hour)},
		{"webhooks.backoff_max", checkRange(time.Duration(w.BackoffMax), time.Duration(w.BackoffInitial), 24*time.Hour)},
		{"webhooks.timeout", checkRange(time.Duration(w.Timeout), 100*time.Millisecond, 5*time.Minute)},
		{"webhooks.directories", checkDirectoryRefs(w.DirectoryList())},
	}
	for _, ch := range checks {
		if ch.err != nil {
			return &KeyError{Key: ch.key, Err: ch.err}
		}
	}
	return nil
}

func checkWebhookURLs(urls []string) error {
	seen := map[string]bool{}
	for _, u := range urls {
		if err := checkOptionalURL(u, "http", "https"); err != nil {
			return fmt.Errorf("entry %d: %w", len(seen)+1, err)
		}
		if seen[u] {
			return fmt.Errorf("entry %d is listed twice", len(seen)+1)
		}
		seen[u] = true
	}
	return nil
}

// checkWebhookSecret never quotes the secret.
func checkWebhookSecret(s string, required bool) error {
	switch {
	case s == "" && required:
		return errors.New("required when webhooks.urls is set")
	case s != "" && len(s) < 16:
		return errors.New("shorter than 16 characters")
	}
	return nil
}

// checkDirectoryRefs checks the shape of directory names and ids (1 to 64
// ASCII letters, digits, '.', '_' and '-'); whether they exist is checked
// against the directory list while delivering.
func checkDirectoryRefs(refs []string) error {
	seen := map[string]bool{}
	for i, ref := range refs {
		ok := len(ref) <= 64
		for _, r := range ref {
			ok = ok && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r))
		}
		if !ok {
			return fmt.Errorf("entry %d: %q is not a directory name or id", i+1, ref)
		}
		if seen[strings.ToLower(ref)] {
			return fmt.Errorf("entry %d is listed twice", i+1)
		}
		seen[strings.ToLower(ref)] = true
	}
	return nil
}
