package adminapi

import (
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// Credential kinds in the report.
const (
	KindStaticToken  = "static_token"
	KindClientSecret = "client_secret"
	KindIdPSubject   = "idp_subject"
)

// Report flags.
const (
	FlagExpired        = "expired"
	FlagRevoked        = "revoked"
	FlagNeverUsed      = "never_used"
	FlagUnused90d      = "unused_90d"
	FlagExpiring30d    = "expiring_30d"
	FlagClientDisabled = "client_disabled"
)

const (
	unusedAfter   = 90 * 24 * time.Hour
	expiringSoon  = 30 * 24 * time.Hour
	statusActive  = "active"
	statusEnabled = "enabled"
)

// CredentialReport answers "which credentials can touch our directory,
// with what scopes, and when were they last used?".
type CredentialReport struct {
	GeneratedAt time.Time          `json:"generated_at"`
	Clients     []ReportClient     `json:"clients"`
	Credentials []ReportCredential `json:"credentials"`

	// Directory is the id of the directory the report is limited to
	// (CredentialReportFor; absent: every directory).
	Directory string `json:"directory,omitempty"`
}

// ReportClient is one SCIM client in the report.
type ReportClient struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Method      string    `json:"method"`
	Status      string    `json:"status"` // enabled or disabled
	Provider    string    `json:"provider,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	Credentials int       `json:"credentials"`

	// DirectoryID and DirectoryName are the client's directory (the
	// name is empty for a directory no longer in the registry).
	DirectoryID   string `json:"directory_id"`
	DirectoryName string `json:"directory_name"`
}

// ReportCredential is one credential: a static token, a client secret or
// a trusted IdP subject. Secrets and hashes are never included.
type ReportCredential struct {
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name"`
	Kind       string `json:"kind"`
	// ID is the token id, the client id (client secret) or the subject.
	ID string `json:"id"`
	// Name is the token name or the IdP issuer.
	Name       string     `json:"name,omitempty"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  *time.Time `json:"created_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	LastUsedIP string     `json:"last_used_ip,omitempty"`
	// UsageTracked is false for kinds whose last use is not recorded
	// (client secrets, IdP subjects); they never get the usage flags.
	UsageTracked bool     `json:"usage_tracked"`
	Status       string   `json:"status"` // active, expired, revoked or client_disabled
	Flags        []string `json:"flags"`

	// DirectoryID and DirectoryName are the directory the credential
	// reaches (its client's).
	DirectoryID   string `json:"directory_id"`
	DirectoryName string `json:"directory_name"`
}

// CredentialReport builds the report at the service clock's now.
func (s *Service) CredentialReport(ctx context.Context) (CredentialReport, error) {
	now := s.now().UTC()
	clients, err := s.store.ListClients(ctx)
	if err != nil {
		return CredentialReport{}, err
	}
	tokens, err := s.store.ListTokens(ctx, "")
	if err != nil {
		return CredentialReport{}, err
	}
	byClient := map[string][]tokenstore.Token{}
	for _, t := range tokens {
		byClient[t.ClientID] = append(byClient[t.ClientID], t)
	}
	dirNames, err := s.DirectoryNames(ctx)
	if err != nil {
		return CredentialReport{}, err
	}
	r := CredentialReport{GeneratedAt: now, Clients: []ReportClient{}, Credentials: []ReportCredential{}}
	for _, c := range clients {
		dir := c.Directory()
		creds := clientCredentials(c, byClient[c.ID], now)
		for i := range creds {
			creds[i].DirectoryID, creds[i].DirectoryName = dir, dirNames[dir]
		}
		status := statusEnabled
		if !c.Enabled {
			status = "disabled"
		}
		r.Clients = append(r.Clients, ReportClient{ID: c.ID, Name: c.Name, Method: c.Method, Status: status,
			Provider: c.Provider, CreatedAt: c.CreatedAt, Credentials: len(creds), DirectoryID: dir, DirectoryName: dirNames[dir]})
		r.Credentials = append(r.Credentials, creds...)
	}
	return r, nil
}

// clientCredentials lists c's credentials: its static tokens, and, from
// the client record, its client secret or trusted IdP subject.
func clientCredentials(c tokenstore.Client, tokens []tokenstore.Token, now time.Time) []ReportCredential {
	var out []ReportCredential
	for _, t := range tokens {
		out = append(out, ReportCredential{
			ClientID: c.ID, ClientName: c.Name, Kind: KindStaticToken, ID: t.ID, Name: t.Name,
			Scopes: slices.Clone(t.Scopes), CreatedAt: optTime(t.CreatedAt), ExpiresAt: optTime(t.ExpiresAt),
			RevokedAt: optTime(t.RevokedAt), LastUsedAt: optTime(t.LastUsedAt), LastUsedIP: t.LastUsedIP,
			UsageTracked: true,
		})
	}
	if c.SecretHash != "" {
		scopes := slices.Clone(c.AllowedScopes)
		if len(scopes) == 0 {
			scopes = []string{auth.ScopeSCIM}
		}
		created := c.SecretRotatedAt
		if created.IsZero() {
			created = c.CreatedAt
		}
		out = append(out, ReportCredential{ClientID: c.ID, ClientName: c.Name, Kind: KindClientSecret, ID: c.ID,
			Scopes: scopes, CreatedAt: optTime(created)})
	}
	if c.Issuer != "" || c.Subject != "" {
		// An IdP token's scopes come from the token itself (scope/scp claims).
		out = append(out, ReportCredential{ClientID: c.ID, ClientName: c.Name, Kind: KindIdPSubject, ID: c.Subject,
			Name: c.Issuer, Scopes: []string{}, CreatedAt: optTime(c.CreatedAt)})
	}
	for i := range out {
		out[i].Status, out[i].Flags = assess(out[i], c.Enabled, now)
	}
	return out
}

// assess returns a credential's status and flags at now.
func assess(r ReportCredential, clientEnabled bool, now time.Time) (string, []string) {
	flags := []string{}
	status := statusActive
	if r.RevokedAt != nil {
		flags, status = append(flags, FlagRevoked), FlagRevoked
	}
	if r.ExpiresAt != nil && !now.Before(*r.ExpiresAt) {
		flags = append(flags, FlagExpired)
		if status == statusActive {
			status = FlagExpired
		}
	}
	if !clientEnabled {
		flags = append(flags, FlagClientDisabled)
		if status == statusActive {
			status = FlagClientDisabled
		}
	}
	if status != statusActive {
		return status, flags
	}
	if r.ExpiresAt != nil && r.ExpiresAt.Sub(now) <= expiringSoon {
		flags = append(flags, FlagExpiring30d)
	}
	if r.UsageTracked {
		ref := r.LastUsedAt
		if ref == nil {
			flags = append(flags, FlagNeverUsed)
			ref = r.CreatedAt
		}
		if ref != nil && now.Sub(*ref) >= unusedAfter {
			flags = append(flags, FlagUnused90d)
		}
	}
	return status, flags
}

// CSVHeader is the first row of WriteCSV.
var CSVHeader = []string{"client_id", "client_name", "kind", "credential_id", "name", "scopes", "created_at",
	"expires_at", "revoked_at", "last_used_at", "last_used_ip", "usage_tracked", "status", "flags",
	"directory_id", "directory_name"}

// WriteCSV writes one row per credential (lists space-separated, times
// RFC 3339 UTC, empty when unset).
func (r CredentialReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, c := range r.Credentials {
		row := []string{c.ClientID, c.ClientName, c.Kind, c.ID, c.Name, strings.Join(c.Scopes, " "),
			csvTime(c.CreatedAt), csvTime(c.ExpiresAt), csvTime(c.RevokedAt), csvTime(c.LastUsedAt), c.LastUsedIP,
			strconv.FormatBool(c.UsageTracked), c.Status, strings.Join(c.Flags, " "), c.DirectoryID, c.DirectoryName}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
