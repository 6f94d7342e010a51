package store

import (
	"strconv"
	"time"
)

// EventTime renders t as the change-event stream's "time" field: unix
// nanoseconds, which Redis keeps as an integer (at most 9 bytes instead
// of about 30 of text), or RFC 3339 text when nanoseconds since 1970 cannot
// hold t.
func EventTime(t time.Time) string {
	if ns := t.UnixNano(); time.Unix(0, ns).Equal(t) {
		return strconv.FormatInt(ns, 10)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// EventTimeText returns the RFC 3339 text (UTC, as time.RFC3339Nano
// renders it) of a change-event stream entry's "time" field: the unix
// nanoseconds EventTime writes, or the text itself, as earlier versions
// stored it and EventTime stores times beyond int64 nanoseconds.
func EventTimeText(v string) string {
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return v
	}
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
