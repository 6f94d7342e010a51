package scimapi

import (
	"regexp"

	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// BulkRef matches a reference to the resource another operation of the
// same bulk request creates, "bulkId:<id>" (RFC 7644 §3.7.2).
var BulkRef = regexp.MustCompile(`bulkId:([A-Za-z0-9._~-]+)`)

// BulkStep is what RunBulk needs to know of one bulk operation: the bulkId
// it creates ("" = none) and the bulkIds it refers to.
type BulkStep struct {
	BulkID string
	Refs   []string
}

// RunBulk runs the operations of a bulk request in request order, except
// that an operation waits until the operations creating the bulkIds it
// refers to have created them (RFC 7644 §3.7.2); created reports whether
// a bulkId's resource exists. run executes operation i and reports whether
// it succeeded. refuse is called instead
// for an operation that refers to a failed operation, or to a bulkId no
// operation creates (or a cycle). Both count as errors; after failLimit
// errors (0 = no limit) the rest is left unprocessed (§3.7.3).
func RunBulk(steps []BulkStep, failLimit int, created func(bulkID string) bool, run func(i int) bool, refuse func(i int, err *scimerr.Error)) {
	failed := map[string]bool{}
	errorsSeen := 0
	pending := make([]int, len(steps))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 && (failLimit == 0 || errorsSeen < failLimit) {
		var next []int
		progress := false
		for _, i := range pending {
			if failLimit > 0 && errorsSeen >= failLimit {
				break
			}
			step := steps[i]
			ready, broken := true, ""
			for _, ref := range step.Refs {
				if failed[ref] {
					broken = ref
				} else if !created(ref) {
					ready = false
				}
			}
			if broken == "" && !ready {
				next = append(next, i)
				continue
			}
			progress = true
			ok := false
			if broken != "" {
				refuse(i, scimerr.BadRequest(scimerr.InvalidValue, "operation references bulkId %q, whose operation failed", broken))
			} else {
				ok = run(i)
			}
			if !ok {
				errorsSeen++
				if step.BulkID != "" {
					failed[step.BulkID] = true
				}
			}
		}
		if !progress {
			// Whatever is left waits for a bulkId nobody creates (or a cycle).
			for _, i := range next {
				refuse(i, scimerr.BadRequest(scimerr.InvalidValue, "operation references a bulkId that no operation of this request creates (or a cycle)"))
				errorsSeen++
			}
			next = nil
		}
		pending = next
	}
}
