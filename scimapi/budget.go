package scimapi

import (
	"time"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Default request budgets (config scim.budgets.*).
const (
	DefaultScanRows   = 100_000
	DefaultScanTime   = 5 * time.Second
	DefaultSortWindow = 10_000
)

// budget is what one list or search may still spend examining resources:
// Options.ScanRows resources within Options.ScanTime. Over it the request
// fails with 400 tooMany (RFC 7644 §3.4.2.2: "the specified filter yields
// many more results than the server is willing to calculate or process").
type budget struct {
	rows, maxRows int
	deadline      time.Time
}

func (h *Handler) newBudget() *budget {
	return &budget{maxRows: h.opts.ScanRows, deadline: time.Now().Add(h.opts.ScanTime)}
}

// reserve refuses, before any of it is read, a scan of n resources that
// would take the request over its row budget.
func (b *budget) reserve(n int) error {
	if b.rows+n > b.maxRows {
		return b.overRows(b.rows + n)
	}
	return nil
}

// charge counts n resources read and checks both budgets.
func (b *budget) charge(n int) error {
	b.rows += n
	if b.rows > b.maxRows {
		return b.overRows(b.rows)
	}
	if time.Now().After(b.deadline) {
		return b.outOfTime()
	}
	return nil
}

// outOfTime is the error of a query past its time budget.
func (b *budget) outOfTime() error {
	return scimerr.BadRequest(scimerr.TooMany, "the query ran out of its time budget (scim.budgets.scan_time) after examining %d resources; filter on an indexed attribute (id, userName, externalId; Groups: displayName) or narrow the filter", b.rows)
}

func (b *budget) overRows(n int) error {
	return scimerr.BadRequest(scimerr.TooMany, "the query would examine %d resources; at most %d are examined per request (scim.budgets.scan_rows); filter on an indexed attribute (id, userName, externalId; Groups: displayName) or narrow the filter", n, b.maxRows)
}
