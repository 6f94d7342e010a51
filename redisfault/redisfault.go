// Package redisfault is the one place that decides whether an error is
// Redis trouble (the store is unreachable, slow, failing over, loading or
// full) rather than a bug, and what the client is told: every route family
// answers a fault with 503 and Retry-After, never 500.
//
// The classification looks through wrapping (errors.Is / errors.As), so the
// store, token store and rate limiter may wrap go-redis errors freely.
package redisfault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Kind names a class of Redis trouble. It is a metric label value.
type Kind string

// The kinds of Redis trouble. None means the error is not Redis trouble.
const (
	None        Kind = ""
	Connection  Kind = "connection"  // refused, reset, EOF: the server is down or restarting
	Timeout     Kind = "timeout"     // no answer in time (stall, overload, the request's deadline)
	Canceled    Kind = "canceled"    // the caller went away while Redis was being asked
	Loading     Kind = "loading"     // LOADING: the server is reading its data set
	ReadOnly    Kind = "readonly"    // READONLY: a replica (e.g. the old master after failover)
	MasterDown  Kind = "masterdown"  // MASTERDOWN: a replica that lost its master
	ClusterDown Kind = "clusterdown" // CLUSTERDOWN: the cluster does not serve the slot
	TryAgain    Kind = "tryagain"    // TRYAGAIN: a slot is being migrated
	OOM         Kind = "oom"         // OOM: maxmemory reached with noeviction
	NoPerm      Kind = "noperm"      // NOPERM / NOAUTH / WRONGPASS: the gateway's Redis user lacks rights
	MaxClients  Kind = "maxclients"  // ERR max number of clients reached
	NoReplicas  Kind = "noreplicas"  // NOREPLICAS: min-replicas-to-write not met
	Busy        Kind = "busy"        // BUSY: a script is running too long
	Pool        Kind = "pool"        // no pooled connection became free in time
	Closed      Kind = "closed"      // the client is closed (shutdown)
	Deadline    Kind = "deadline"    // a write script refused to run after the request's deadline
)

// Kinds lists every kind, for metrics that pre-declare their labels.
var Kinds = []Kind{Connection, Timeout, Canceled, Loading, ReadOnly, MasterDown, ClusterDown, TryAgain,
	OOM, NoPerm, MaxClients, NoReplicas, Busy, Pool, Closed, Deadline}

// DeadlineReply is the error reply of a write script that found the
// request's deadline passed and changed nothing.
const DeadlineReply = "DEADLINE"

// Classify returns the kind of Redis trouble err is, or None.
func Classify(err error) Kind {
	if err == nil || errors.Is(err, redis.Nil) {
		return None
	}
	if k := classifyReply(err); k != None {
		return k
	}
	switch {
	case errors.Is(err, redis.ErrPoolTimeout):
		return Pool
	case errors.Is(err, redis.ErrClosed):
		return Closed
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return Timeout
	case errors.Is(err, context.Canceled):
		return Canceled
	}
	var ne net.Error
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return Timeout
		}
		return Connection
	}
	var oe *net.OpError
	if errors.As(err, &oe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) {
		return Connection
	}
	return None
}

// classifyReply classifies Redis error replies. A reply raised inside a Lua
// script carries the original reply's text after a script prefix, so the
// known codes are looked for at the start of the message or after "ERR ".
func classifyReply(err error) Kind {
	var re redis.Error
	if !errors.As(err, &re) {
		return None
	}
	msg := re.Error()
	switch {
	case redis.IsOOMError(err) || replyHas(msg, "OOM "):
		return OOM
	case redis.IsLoadingError(err) || replyHas(msg, "LOADING "):
		return Loading
	case redis.IsReadOnlyError(err) || replyHas(msg, "READONLY "):
		return ReadOnly
	case redis.IsMasterDownError(err) || replyHas(msg, "MASTERDOWN "):
		return MasterDown
	case redis.IsClusterDownError(err) || replyHas(msg, "CLUSTERDOWN "):
		return ClusterDown
	case redis.IsTryAgainError(err) || replyHas(msg, "TRYAGAIN "):
		return TryAgain
	case redis.IsMaxClientsError(err):
		return MaxClients
	case redis.IsNoReplicasError(err) || replyHas(msg, "NOREPLICAS "):
		return NoReplicas
	case redis.IsPermissionError(err) || redis.IsAuthError(err):
		return NoPerm
	case replyHas(msg, "BUSY "):
		return Busy
	case msg == DeadlineReply || msg == "ERR "+DeadlineReply:
		return Deadline
	}
	return None
}

// replyHas reports whether a Redis error reply is, or (from inside a
// script) quotes, the reply code.
func replyHas(msg, code string) bool {
	msg = strings.TrimPrefix(msg, "ERR ")
	return strings.HasPrefix(msg, code) || strings.Contains(msg, ": "+code) || strings.Contains(msg, "-"+code)
}

// Is reports whether err is Redis trouble.
func Is(err error) bool { return Classify(err) != None }

// RetryAfter is how long a client should wait before retrying after a
// fault of kind k: long for states an operator must fix (full, no
// permission), one second for those that heal by themselves.
func RetryAfter(k Kind) time.Duration {
	switch k {
	case OOM, NoPerm:
		return 30 * time.Second
	case Loading:
		return 5 * time.Second
	}
	return time.Second
}

// Detail is the client-safe explanation of a fault of kind k.
func Detail(k Kind) string {
	switch k {
	case OOM:
		return "storage is full; writes are refused until space is freed, reads are still served"
	case ReadOnly, MasterDown, ClusterDown, TryAgain, Loading, NoReplicas:
		return "storage is failing over or starting; retry shortly"
	case Timeout, Deadline, Busy, Pool:
		return "storage did not answer in time; retry shortly"
	case NoPerm:
		return "storage refused the gateway's credentials"
	}
	return "storage temporarily unavailable; retry shortly"
}

// TxError returns the cause of a MULTI/EXEC that Redis aborted: for
// EXECABORT, the first error of the queued commands (at maxmemory every
// command queued in a transaction is refused with OOM, on a replica a
// write with READONLY), which Classify knows; otherwise err unchanged.
func TxError(cmds []redis.Cmder, err error) error {
	var re redis.Error
	if err == nil || !errors.As(err, &re) || !strings.HasPrefix(re.Error(), "EXECABORT") {
		return err
	}
	for _, c := range cmds {
		if cerr := c.Err(); cerr != nil && !errors.Is(cerr, redis.Nil) {
			return fmt.Errorf("%w (%w)", cerr, err)
		}
	}
	return err
}
