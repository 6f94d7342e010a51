package webhook

import "fmt"

// GroupName returns the consumer group of the subscriber named sub on the
// change-event stream.
func GroupName(sub string) string { return "webhook:" + sub }

// DLQKey returns the dead-letter stream of the subscriber named sub. Like
// every scimgate key it carries the {scim} hash tag, so it shares the
// events stream's Redis Cluster slot and a dead-letter write and its XACK
// run in one MULTI.
func DLQKey(prefix, sub string) string { return fmt.Sprintf("%s{scim}:webhook-dlq:%s", prefix, sub) }

// leaseKey holds the id of the consumer delivering to sub.
func leaseKey(prefix, sub string) string {
	return fmt.Sprintf("%s{scim}:webhook-lease:%s", prefix, sub)
}
