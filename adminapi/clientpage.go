package adminapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/tokenstore"
)

// Client list paging, advertised in openapi.yaml (listClients).
const (
	// DefaultClientPage is the page size of GET /clients without limit.
	DefaultClientPage = 50
	// MaxClientPage is the largest limit GET /clients accepts.
	MaxClientPage = 200
	// maxClientSearch bounds the search text (a client name prefix).
	maxClientSearch = 200
)

// ClientQuery reads a client page request: limit (1..MaxClientPage,
// default DefaultClientPage), cursor (a previous page's next_cursor) and q
// (a case-insensitive name prefix), through get (a query-string lookup).
func ClientQuery(get func(string) string) (tokenstore.ClientQuery, error) {
	q := tokenstore.ClientQuery{Prefix: get("q"), Cursor: get("cursor"), Limit: DefaultClientPage}
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxClientPage {
			return q, fieldErr("limit", "must be an integer from 1 to %d", MaxClientPage)
		}
		q.Limit = n
	}
	if len(q.Prefix) > maxClientSearch {
		return q, fieldErr("q", "at most %d bytes", maxClientSearch)
	}
	return q, nil
}

// ListClientsPage returns one page of clients ordered by name (see
// tokenstore.ClientQuery); a malformed cursor is a FieldError.
func (s *Service) ListClientsPage(ctx context.Context, q tokenstore.ClientQuery) (tokenstore.ClientPage, error) {
	q.Limit = min(max(q.Limit, 1), MaxClientPage)
	p, err := s.store.ListClientsPage(ctx, q)
	if errors.Is(err, tokenstore.ErrBadCursor) {
		return p, fieldErr("cursor", "malformed cursor")
	}
	return p, err
}

// ClientPageJSON is the answer of GET /clients.
type ClientPageJSON struct {
	Clients []ClientJSON `json:"clients"`
	// NextCursor continues the listing; absent on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

func (h handlers) listClients(c *gin.Context) {
	q, err := ClientQuery(c.Query)
	if err != nil {
		h.fail(c, err)
		return
	}
	p, err := h.svc.ListClientsPage(c.Request.Context(), q)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := ClientPageJSON{Clients: make([]ClientJSON, len(p.Clients)), NextCursor: p.Next}
	for i, cl := range p.Clients {
		out.Clients[i] = ToClientJSON(cl)
	}
	c.JSON(http.StatusOK, out)
}
