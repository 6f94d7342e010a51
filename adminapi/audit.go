package adminapi

import (
	"context"
	"log/slog"
	"reflect"
	"slices"

	"github.com/scimgate/scimgate/audit"
	"github.com/scimgate/scimgate/tokenstore"
)

// SetAudit makes s record each successful client and credential change
// (CLIENT_CREATED/UPDATED/DELETED, TOKEN_CREATED, TOKEN_REVOKED) as one
// event in events. Refused or failed actions record nothing. The event is
// appended after the change is stored, so, unlike SCIM writes, it is not
// atomic with it: when the append fails the change stands and the failure
// is logged at error level on log.
func (s *Service) SetAudit(events *audit.Log, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s.events, s.log = events, log
}

// Origin is where an admin action came from, for its audit event.
type Origin struct {
	// Via names the admin credential: "admin_token" (HTTP API) or "cli".
	Via       string
	RequestID string
	SourceIP  string
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

func originFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// AdminMethod is the actor auth method of admin actions.
const AdminMethod = "admin"

// record appends one admin event; the change is already stored.
func (s *Service) record(ctx context.Context, action string, target audit.Target, changed []string) {
	s.recordEvent(ctx, action, target, changed, "")
}

// recordReason records an admin action with a reason (what it did).
func (s *Service) recordReason(ctx context.Context, action string, target audit.Target, reason string) {
	s.recordEvent(ctx, action, target, nil, reason)
}

func (s *Service) recordEvent(ctx context.Context, action string, target audit.Target, changed []string, reason string) {
	if s.events == nil {
		return
	}
	o := originFrom(ctx)
	e := audit.Event{
		Time:      s.now().UTC(),
		Action:    action,
		Actor:     audit.Actor{AuthMethod: AdminMethod, CredentialID: o.Via},
		Target:    target,
		RequestID: o.RequestID,
		SourceIP:  o.SourceIP,
		Outcome:   audit.OutcomeSuccess,
		Changed:   changed,
		Reason:    reason,
	}
	// The change must not be undone by an aborted request: append even
	// when the caller's context has ended.
	if err := s.events.Append(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "admin action not recorded in the audit trail",
			"action", action, "target_id", target.ID, "err", err.Error())
	}
}

func clientTarget(c tokenstore.Client) audit.Target {
	return audit.Target{Type: "Client", ID: c.ID, Name: c.Name}
}

func tokenTarget(t tokenstore.Token) audit.Target {
	return audit.Target{Type: "Token", ID: t.ID, Name: t.Name}
}

// clientFields are the audited attributes of a client by name. Secrets
// appear only as whether they changed ("secret"), never by value.
func clientFields(c tokenstore.Client) map[string]any {
	return map[string]any{
		"name": c.Name, "provider": c.Provider, "method": c.Method, "enabled": c.Enabled,
		"issuer": c.Issuer, "subject": c.Subject, "audience": c.Audience, "jwks_url": c.JWKSURL,
		"secret": c.SecretHash, "allowed_scopes": c.AllowedScopes, "rate_limit": c.RateLimit,
	}
}

// changedFields names the audited attributes that differ between before
// and after, sorted; zero values count as unset.
func changedFields(before, after tokenstore.Client) []string {
	b, a := clientFields(before), clientFields(after)
	var out []string
	for k, v := range a {
		if !reflect.DeepEqual(b[k], v) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func tokenFields(t tokenstore.Token) []string {
	out := []string{"client_id", "expires_at", "scopes"}
	if t.Name != "" {
		out = append(out, "name")
	}
	if len(t.AllowIPs) > 0 {
		out = append(out, "allow_ips")
	}
	slices.Sort(out)
	return out
}

// logger is the service's logger (discarding when SetAudit was not called).
func (s *Service) logger() *slog.Logger {
	if s.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.log
}
