// Package audit keeps scimgate's audit trail: one Redis Stream of events
// (one short stream field per event field, see AppendFields and Decode)
// for every SCIM write and every credential and admin action. SCIM writes append their event inside the same Lua script as the
// change (package scimapi/store), so no change exists without its record;
// other events are appended with Log.Append.
//
// The stream lives at <prefix>{scim}:audit, in the same Redis Cluster slot
// as the SCIM data of the default directory; every other directory has its
// own stream, <prefix>{d:<id>}:audit, in its own slot (TaggedKey). Retention is by length (approximate MAXLEN on every
// append) and by age (Log.Trim, run periodically by the gateway).
package audit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Actions.
const (
	UserProvisioned              = "SCIM_USER_PROVISIONED"
	UserUpdated                  = "SCIM_USER_UPDATED"
	UserDeprovisioned            = "SCIM_USER_DEPROVISIONED"
	UserReactivated              = "SCIM_USER_REACTIVATED"
	UserDeleted                  = "SCIM_USER_DELETED"
	GroupCreated                 = "SCIM_GROUP_CREATED"
	GroupSynced                  = "SCIM_GROUP_SYNCED"
	GroupDeleted                 = "SCIM_GROUP_DELETED"
	GroupMembershipChanged       = "SCIM_GROUP_MEMBERSHIP_CHANGED"
	ClientCreated                = "CLIENT_CREATED"
	ClientUpdated                = "CLIENT_UPDATED"
	ClientDeleted                = "CLIENT_DELETED"
	TokenCreated                 = "TOKEN_CREATED"
	TokenRevoked                 = "TOKEN_REVOKED"
	SecretRotated                = "SECRET_ROTATED"
	KeyRotated                   = "KEY_ROTATED"
	DirectoryCreated             = "DIRECTORY_CREATED"
	DirectoryUpdated             = "DIRECTORY_UPDATED"
	DirectoryDeleted             = "DIRECTORY_DELETED"
	AuthFailed                   = "AUTH_FAILED"
	OutcomeSuccess               = "success"
	OutcomeFailure               = "failure"
	defaultMaxLen          int64 = 1_000_000
)

// Actor is who acted: a SCIM client through one of its credentials, or an
// administrator.
type Actor struct {
	ClientID     string `json:"client_id,omitempty"`
	AuthMethod   string `json:"auth_method,omitempty"`
	CredentialID string `json:"credential_id,omitempty"` // token id or jti
}

// Target is what was acted on.
type Target struct {
	Type string `json:"type,omitempty"` // User, Group, Client, Token, Key
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"` // userName, displayName, client name
}

// Event is one audit record. It never holds secrets, tokens or passwords:
// Changed names attributes, it does not carry their values.
type Event struct {
	// ID is the stream entry id, set when read.
	ID        string    `json:"id,omitempty"`
	Time      time.Time `json:"time"`
	Action    string    `json:"action"`
	Actor     Actor     `json:"actor"`
	Target    Target    `json:"target"`
	RequestID string    `json:"request_id,omitempty"`
	Outcome   string    `json:"outcome"`
	Changed   []string  `json:"changed,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	SourceIP  string    `json:"source_ip,omitempty"`
	// AUTH_FAILED aggregates (see Failures): the source network (an IPv4
	// address or an IPv6 prefix; SourceIP is set too when it is a single
	// address), the route family, the number of failures and the first
	// and last of them. RequestID is the first failure's.
	Network string     `json:"network,omitempty"`
	Route   string     `json:"route,omitempty"`
	Count   int64      `json:"count,omitempty"`
	First   *time.Time `json:"first,omitempty"`
	Last    *time.Time `json:"last,omitempty"`
}

// Log is the audit stream on Redis.
type Log struct {
	c      redis.UniversalClient
	key    string
	maxLen int64
}

// NewLog returns the audit log under prefix keeping about maxLen events
// (0 = the default of one million).
func NewLog(c redis.UniversalClient, prefix string, maxLen int64) *Log {
	if maxLen <= 0 {
		maxLen = defaultMaxLen
	}
	return &Log{c: c, key: Key(prefix), maxLen: maxLen}
}

// Key returns the stream key for prefix.
func Key(prefix string) string { return TaggedKey(prefix, "scim") }

// TaggedKey returns the audit stream of the directory whose keys carry the
// hash tag {tag} ("scim" for the default directory, "d:<id>" for others):
// a SCIM write appends to its own directory's stream, in its slot.
func TaggedKey(prefix, tag string) string { return prefix + "{" + tag + "}:audit" }

// ForTag returns the log of the directory whose keys carry the hash tag
// {tag}, on the same client with the same length bound ("scim" is the
// default directory's, the stream NewLog opens).
func (l *Log) ForTag(prefix, tag string) *Log {
	return &Log{c: l.c, key: TaggedKey(prefix, tag), maxLen: l.maxLen}
}

// MaxLen is the approximate length the stream is trimmed to.
func (l *Log) MaxLen() int64 { return l.maxLen }

// Append records e.
func (l *Log) Append(ctx context.Context, e Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeSuccess
	}
	err := l.c.XAdd(ctx, &redis.XAddArgs{Stream: l.key, MaxLen: l.maxLen, Approx: true, Values: AppendFields(nil, e)}).Err()
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// Trim drops events older than maxAge.
func (l *Log) Trim(ctx context.Context, maxAge time.Duration, now time.Time) error {
	minID := strconv.FormatInt(now.Add(-maxAge).UnixMilli(), 10) + "-0"
	if err := l.c.XTrimMinIDApprox(ctx, l.key, minID, 0).Err(); err != nil {
		return fmt.Errorf("audit: trim: %w", err)
	}
	return nil
}

// Query selects events. Zero fields do not filter.
type Query struct {
	Since, Until time.Time
	Action       string // exact action name
	Client       string // actor client id
	Target       string // target id or name (case-insensitive)
	// Cursor continues after the event with this id (from Page.Next).
	Cursor string
	Limit  int // default 100, at most 1000
}

// Page is one page of a query, oldest first.
type Page struct {
	Events []Event `json:"events"`
	// Next is the cursor of the following page, "" at the end.
	Next string `json:"next_cursor,omitempty"`
}

// Matches reports whether e passes q's filters (not its time range).
func (q Query) Matches(e Event) bool {
	if q.Action != "" && !strings.EqualFold(e.Action, q.Action) {
		return false
	}
	if q.Client != "" && e.Actor.ClientID != q.Client {
		return false
	}
	if q.Target != "" && e.Target.ID != q.Target && !strings.EqualFold(e.Target.Name, q.Target) {
		return false
	}
	return true
}

// ErrBadCursor is returned for a malformed cursor.
var ErrBadCursor = errors.New("audit: malformed cursor")

// Query returns the events matching q, oldest first, reading the stream in
// bounded batches.
func (l *Log) Query(ctx context.Context, q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	start := "-"
	if !q.Since.IsZero() {
		start = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	if q.Cursor != "" {
		if !validID(q.Cursor) {
			return Page{}, ErrBadCursor
		}
		start = "(" + q.Cursor
	}
	end := "+"
	if !q.Until.IsZero() {
		end = strconv.FormatInt(q.Until.UnixMilli(), 10)
	}
	var p Page
	for {
		msgs, err := l.c.XRangeN(ctx, l.key, start, end, 500).Result()
		if err != nil {
			return Page{}, fmt.Errorf("audit: read: %w", err)
		}
		for _, m := range msgs {
			e, ok := Decode(m)
			if !ok || !q.Matches(e) {
				continue
			}
			if len(p.Events) == q.Limit {
				p.Next = p.Events[len(p.Events)-1].ID
				return p, nil
			}
			p.Events = append(p.Events, e)
		}
		if len(msgs) < 500 {
			return p, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// Tail calls fn with every event appended after the id from ("$" = only
// new ones) until ctx ends or fn returns an error.
func (l *Log) Tail(ctx context.Context, from string, q Query, fn func(Event) error) error {
	last := from
	for {
		res, err := l.c.XRead(ctx, &redis.XReadArgs{Streams: []string{l.key, last}, Block: 2 * time.Second, Count: 100}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			// With ContextTimeoutEnabled the socket deadline is the
			// context's, so the read can fail a moment before ctx.Err()
			// reports the deadline: both mean the caller's time is up.
			if dl, ok := ctx.Deadline(); ctx.Err() != nil || (ok && !time.Now().Before(dl)) {
				return nil
			}
			return fmt.Errorf("audit: tail: %w", err)
		}
		for _, s := range res {
			for _, m := range s.Messages {
				last = m.ID
				if e, ok := Decode(m); ok && q.Matches(e) {
					if err := fn(e); err != nil {
						return err
					}
				}
			}
		}
	}
}

func validID(s string) bool {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	_, err1 := strconv.ParseUint(ms, 10, 64)
	_, err2 := strconv.ParseUint(seq, 10, 64)
	return err1 == nil && err2 == nil
}
