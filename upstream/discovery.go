package upstream

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// maxDiscoveryEntries bounds the discovery cache: /Schemas/:urn and
// /ResourceTypes/:name take caller-chosen names.
const maxDiscoveryEntries = 64

// discoveryCache keeps the upstream's 200 answers to discovery requests
// for a short while, keyed by path.
type discoveryCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]discoveryEntry
}

type discoveryEntry struct {
	a       *answer
	expires time.Time
}

func newDiscoveryCache(ttl time.Duration) *discoveryCache {
	return &discoveryCache{ttl: ttl, entries: map[string]discoveryEntry{}}
}

func (d *discoveryCache) get(path string, now time.Time) *answer {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[path]
	if !ok || now.After(e.expires) {
		return nil
	}
	return e.a
}

func (d *discoveryCache) put(path string, a *answer, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.entries) >= maxDiscoveryEntries {
		for k, e := range d.entries {
			if now.After(e.expires) {
				delete(d.entries, k)
			}
		}
		if len(d.entries) >= maxDiscoveryEntries {
			return
		}
	}
	d.entries[path] = discoveryEntry{a: a, expires: now.Add(d.ttl)}
}

// fetchDiscovery returns the upstream's answer for a discovery path, from
// the cache when fresh.
func (f *Forwarder) fetchDiscovery(c *gin.Context, path string) (*answer, error) {
	now := time.Now()
	if a := f.disc.get(path, now); a != nil {
		return a, nil
	}
	a, err := f.send(c, http.MethodGet, path, "", nil)
	if err != nil {
		return nil, err
	}
	if a.status == http.StatusOK {
		f.disc.put(path, a, now)
	}
	return a, nil
}

// discovery answers /Schemas and /ResourceTypes (RFC 7644 §4) with the
// upstream's, cached briefly.
func (f *Forwarder) discovery(c *gin.Context, prefix string) {
	path := strings.TrimSuffix(strings.TrimPrefix(c.Request.URL.Path, prefix), "/")
	a, err := f.fetchDiscovery(c, path)
	if err != nil {
		f.fail(c, err)
		return
	}
	f.relay(c, prefix, a)
}

// serviceProviderConfig answers the upstream's capabilities with
// scimgate's authentication scheme and, for bulk and filtering, the
// smaller of the upstream's limits and scimgate's.
func (f *Forwarder) serviceProviderConfig(c *gin.Context, prefix string) {
	a, err := f.fetchDiscovery(c, "/ServiceProviderConfig")
	if err != nil {
		f.fail(c, err)
		return
	}
	if a.status != http.StatusOK {
		f.relay(c, prefix, a)
		return
	}
	doc, err := decodeObject(a.body)
	if err != nil {
		f.fail(c, &upstreamError{http.StatusBadGateway, "the upstream SCIM service sent an answer that is not SCIM JSON", err})
		return
	}
	doc["authenticationSchemes"] = []any{map[string]any{
		"type":        "oauthbearertoken",
		"name":        "OAuth Bearer Token",
		"description": "Authentication with a bearer token: a static system token, an access token from scimgate's token endpoint, or a JWT from a trusted identity provider.",
		"specUri":     "https://www.rfc-editor.org/rfc/rfc6750",
		"primary":     true,
	}}
	bulk, _ := doc["bulk"].(map[string]any)
	if supported, _ := bulk["supported"].(bool); !supported {
		// scimgate expands /Bulk into single requests (expandBulk).
		bulk = map[string]any{"supported": true}
		doc["bulk"] = bulk
	}
	bulk["maxOperations"] = minLimit(bulk["maxOperations"], int64(f.opts.BulkMaxOperations))
	bulk["maxPayloadSize"] = minLimit(bulk["maxPayloadSize"], f.opts.BulkMaxPayload)
	if filter, ok := doc["filter"].(map[string]any); ok {
		filter["maxResults"] = minLimit(filter["maxResults"], int64(f.opts.MaxResults))
	}
	a2 := *a
	a2.body, _ = encodeJSON(doc)
	f.relay(c, prefix, &a2)
}

// minLimit is the smaller of an upstream's advertised limit (absent or
// not positive: none) and scimgate's.
func minLimit(v any, ours int64) int64 {
	if n, ok := v.(json.Number); ok {
		if u, err := n.Int64(); err == nil && u > 0 && u < ours {
			return u
		}
	}
	return ours
}

// bulkSupported reports whether the upstream advertises /Bulk.
func (f *Forwarder) bulkSupported(c *gin.Context) (bool, error) {
	a, err := f.fetchDiscovery(c, "/ServiceProviderConfig")
	if err != nil {
		return false, err
	}
	if a.status != http.StatusOK {
		return false, &upstreamError{http.StatusBadGateway, "the upstream SCIM service did not describe its capabilities", nil}
	}
	doc, err := decodeObject(a.body)
	if err != nil {
		return false, &upstreamError{http.StatusBadGateway, "the upstream SCIM service sent an answer that is not SCIM JSON", err}
	}
	bulk, _ := doc["bulk"].(map[string]any)
	ok, _ := bulk["supported"].(bool)
	return ok, nil
}

// Check is a readiness check: the upstream answers GET
// /ServiceProviderConfig with 200 within timeout. Its error is safe to show
// on /readyz (no upstream internals).
func (f *Forwarder) Check(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	a, err := f.sendNow(ctx, http.MethodGet, "/ServiceProviderConfig", "", nil, func(string) string { return "" }, "")
	if err != nil {
		if ue, ok := err.(*upstreamError); ok {
			return fmt.Errorf("%s", ue.detail)
		}
		return scimerr.Resolve(err)
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("the upstream SCIM service answered %d", a.status)
	}
	return nil
}
