package patch

import (
	"github.com/scimgate/scimgate/scimapi/filter"
	"github.com/scimgate/scimgate/scimapi/scimerr"
)

// Default limits on a PATCH request (see Limits).
const (
	DefaultMaxOperations = 1000
	DefaultMaxPathLength = 1024
)

// Limits bounds the work one PATCH request may cause. Every limit is checked
// before the work it bounds. A zero field takes its default.
type Limits struct {
	// MaxOperations is the largest number of operations in one request.
	MaxOperations int
	// MaxPathLength is the longest "path" in bytes.
	MaxPathLength int
	// Filter bounds the value filter of a path (`emails[type eq "work"]`);
	// the brackets count as nesting.
	Filter filter.Limits
}

// WithDefaults returns l with every zero or negative field set to its
// default.
func (l Limits) WithDefaults() Limits {
	if l.MaxOperations <= 0 {
		l.MaxOperations = DefaultMaxOperations
	}
	if l.MaxPathLength <= 0 {
		l.MaxPathLength = DefaultMaxPathLength
	}
	l.Filter = l.Filter.WithDefaults()
	return l
}

// Check enforces the limits on a whole request before any operation is
// applied. More than MaxOperations operations: RFC 7644 defines no error
// for this; §3.12 table 9 lists invalidValue (not tooMany, which is for the
// filters of GET and search) among the scimTypes of PATCH, so the answer is
// 400 invalidValue naming the limit. Paths: see ParsePath.
func (l Limits) Check(ops []Operation) error {
	l = l.WithDefaults()
	if len(ops) > l.MaxOperations {
		return scimerr.BadRequest(scimerr.InvalidValue, "the request has %d operations; at most %d are allowed per PATCH", len(ops), l.MaxOperations)
	}
	for i, op := range ops {
		if err := l.checkPath(op.Path); err != nil {
			se, ok := scimerr.As(err)
			if !ok {
				return err
			}
			return scimerr.New(se.Status, se.ScimType, "operation %d: %s", i, se.Detail)
		}
	}
	return nil
}

// checkPath refuses a path longer than MaxPathLength (400 invalidPath) or
// whose value filter exceeds the filter limits (400 invalidFilter, the
// scimType RFC 7644 §3.12 gives for a PATCH path filter), before parsing.
func (l Limits) checkPath(s string) error {
	l = l.WithDefaults()
	if len(s) > l.MaxPathLength {
		return scimerr.BadRequest(scimerr.InvalidPath, "path length exceeds %d bytes", l.MaxPathLength)
	}
	return l.Filter.CheckPath(s)
}
