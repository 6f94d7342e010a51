package webhook

import (
	"fmt"

	"github.com/scimgate/scimgate/scimapi/store"
)

// GroupName returns the consumer group of the subscriber named sub on a
// change-event stream (every directory's stream has one of that name).
func GroupName(sub string) string { return "webhook:" + sub }

// DLQKey returns the default directory's dead-letter stream of the
// subscriber named sub: <prefix>{scim}:webhook-dlq:<sub>, the key of the
// releases before directories.
func DLQKey(prefix, sub string) string { return TaggedDLQKey(prefix, store.DefaultTag, sub) }

// TaggedDLQKey returns the dead-letter stream of the subscriber named sub
// for the directory whose keys carry hash tag tag (directory.Tag). It
// shares the directory's events stream's Redis Cluster slot, so a
// dead-letter write and its XACK run in one MULTI.
func TaggedDLQKey(prefix, tag, sub string) string {
	return fmt.Sprintf("%s{%s}:webhook-dlq:%s", prefix, tag, sub)
}

// leaseKey holds the id of the consumer delivering a directory's events
// to sub.
func leaseKey(prefix, tag, sub string) string {
	return fmt.Sprintf("%s{%s}:webhook-lease:%s", prefix, tag, sub)
}
