package store

import (
	"strconv"
	"testing"
)

// TestGroupNameBatchLua: the read scripts read as many group names in one
// run as groupNames reads in one HMGET.
func TestGroupNameBatchLua(t *testing.T) {
	if groupNameBatchLua != strconv.Itoa(groupNameBatch) {
		t.Fatalf("groupNameBatchLua %s, groupNameBatch %d", groupNameBatchLua, groupNameBatch)
	}
}
