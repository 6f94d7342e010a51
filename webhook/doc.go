// Package webhook delivers the change-event streams of every directory
// (store.TaggedEventsKey) to HTTP subscribers.
//
// A Supervisor lists the directories at start and every ListInterval and
// runs one Worker per directory (at most MaxDirectories); each directory's
// consumer groups, leases and dead-letter streams carry its hash tag, so
// they share its slot. The default directory keeps the {scim} keys of the
// releases before directories, so an upgrade keeps its groups and DLQs.
// Each payload names its directory (Event.Directory); a subscriber can be
// limited to some directories (Subscriber.Directories).
//
// Each subscriber URL has its own Redis consumer group on each stream, so a
// slow or failing subscriber never holds up another. In every group exactly
// one gateway replica delivers at a time: it holds a short, renewed lease
// (a Redis key), which keeps deliveries to one subscriber in stream order
// even with many replicas. The others stand by and take over when the
// lease lapses; the new holder first claims (XAUTOCLAIM) whatever the
// previous holder left pending, so nothing read but unacknowledged is lost.
//
// An entry is acknowledged (XACK) only after the subscriber answered 2xx, or
// after it was copied to the subscriber's dead-letter stream once
// MaxAttempts deliveries failed. Delivery is therefore at-least-once:
// duplicates happen only when a replica stops between a successful POST and
// its XACK. Receivers deduplicate on the X-Scimgate-Delivery header (the
// stream entry id).
//
// Bodies are signed with HMAC-SHA256 over "<timestamp>.<body>" (see Sign
// and Verify); docs/events.md documents the payload and the scheme.
package webhook
