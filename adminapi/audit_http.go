package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/directory"
	"github.com/scimgate/scimgate/server"
)

// NDJSON is the media type of newline-delimited JSON exports.
const NDJSON = "application/x-ndjson"

// NextCursorHeader carries the next page's cursor of an NDJSON answer.
const NextCursorHeader = "X-Next-Cursor"

// recordOrigin puts the request id and source address on the request
// context, where Service.record finds them.
func recordOrigin(c *gin.Context) {
	ctx := WithOrigin(c.Request.Context(), Origin{Via: "admin_token", RequestID: server.RequestIDFrom(c), SourceIP: c.ClientIP()})
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// MountAudit registers, on the group Mount set up (which carries the admin
// credential check):
//
//	GET /audit?since=&until=&action=&client=&target=&cursor=&limit=&format=ndjson[&directory=] (MountAuditIn)
//
// since and until are RFC 3339 times or durations before now ("24h"). The
// answer is {"events": [...], "next_cursor": "..."}, oldest first, or with
// format=ndjson or Accept: application/x-ndjson one event per line and the
// next cursor in the X-Next-Cursor header.
func MountAudit(g *gin.RouterGroup, events *audit.Log, now func() time.Time, log *slog.Logger) {
	MountAuditIn(g, events, nil, now, log)
}

// MountAuditIn is MountAudit with a directory parameter: ?directory=NAME|ID
// reads that directory's stream (its SCIM writes) through dirLog instead
// of events (the default directory's stream, which also holds the admin
// and credential events). dirLog nil: the parameter is refused.
func MountAuditIn(g *gin.RouterGroup, events *audit.Log, dirLog func(ctx context.Context, ref string) (*audit.Log, error), now func() time.Time, log *slog.Logger) {
	g.GET("/audit", func(c *gin.Context) {
		q, err := AuditQuery(func(k string) string { return c.Query(k) }, now())
		l := events
		if ref := c.Query("directory"); err == nil && ref != "" {
			if dirLog == nil {
				err = fieldErr("directory", "directories are not enabled")
			} else if l, err = dirLog(c.Request.Context(), ref); errors.Is(err, directory.ErrNotFound) {
				err = fieldErr("directory", "no directory %q", ref)
			}
		}
		if err == nil {
			var page audit.Page
			page, err = l.Query(c.Request.Context(), q)
			if err == nil {
				writePage(c, page)
				return
			}
		}
		var fe *FieldError
		switch {
		case errors.As(err, &fe):
			c.JSON(http.StatusBadRequest, errorBody{Error: fe.Error(), Field: fe.Field})
		case errors.Is(err, audit.ErrBadCursor):
			c.JSON(http.StatusBadRequest, errorBody{Error: "malformed cursor", Field: "cursor"})
		case unavailable(c, log, err):
		default:
			log.ErrorContext(c.Request.Context(), "audit query failed", "err", err.Error())
			c.JSON(http.StatusInternalServerError, errorBody{Error: "internal error"})
		}
	})
}

func writePage(c *gin.Context, page audit.Page) {
	if c.Query("format") != "ndjson" && !strings.Contains(c.GetHeader("Accept"), NDJSON) {
		if page.Events == nil {
			page.Events = []audit.Event{}
		}
		c.JSON(http.StatusOK, page)
		return
	}
	if page.Next != "" {
		c.Header(NextCursorHeader, page.Next)
	}
	c.Header("Content-Type", NDJSON)
	c.Status(http.StatusOK)
	enc := json.NewEncoder(c.Writer)
	for _, e := range page.Events {
		if err := enc.Encode(e); err != nil {
			return // client went away
		}
	}
}

// AuditQuery builds an audit query from named parameters (since, until,
// action, client, target, cursor, limit) read with get.
func AuditQuery(get func(string) string, now time.Time) (audit.Query, error) {
	var q audit.Query
	var err error
	if q.Since, err = ParseWhen("since", get("since"), now); err != nil {
		return q, err
	}
	if q.Until, err = ParseWhen("until", get("until"), now); err != nil {
		return q, err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Until.Before(q.Since) {
		return q, fieldErr("until", "is before since")
	}
	q.Action = strings.ToUpper(strings.TrimSpace(get("action")))
	q.Client = strings.TrimSpace(get("client"))
	q.Target = strings.TrimSpace(get("target"))
	q.Cursor = strings.TrimSpace(get("cursor"))
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return q, fieldErr("limit", "must be a whole number from 1 to 1000")
		}
		q.Limit = n
	}
	return q, nil
}

// ParseWhen reads a point in time: RFC 3339, a date (2006-01-02, UTC) or a
// duration before now ("90m", "24h", "7d"). Empty gives the zero time.
func ParseWhen(field, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fieldErr(field, "%s", fmt.Sprintf("%q is neither an RFC 3339 time, a date nor a duration like 24h or 7d", s))
}
