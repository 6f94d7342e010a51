package adminapi

import (
	"context"
	"errors"

	"github.com/scimgate/scimgate/directory"
)

// CredentialReportFor is the credential report limited to the clients of
// the directory named by ref (id or name; "" = every directory). An
// unknown directory is a FieldError on "directory".
func (s *Service) CredentialReportFor(ctx context.Context, ref string) (CredentialReport, error) {
	if ref == "" {
		return s.CredentialReport(ctx)
	}
	d, err := s.resolveDirectory(ctx, ref)
	if errors.Is(err, directory.ErrNotFound) {
		return CredentialReport{}, fieldErr("directory", "no directory %q", ref)
	}
	if err != nil {
		return CredentialReport{}, err
	}
	r, err := s.CredentialReport(ctx)
	if err != nil {
		return CredentialReport{}, err
	}
	r.Directory = d.ID
	clients := r.Clients[:0]
	for _, c := range r.Clients {
		if c.DirectoryID == d.ID {
			clients = append(clients, c)
		}
	}
	creds := r.Credentials[:0]
	for _, c := range r.Credentials {
		if c.DirectoryID == d.ID {
			creds = append(creds, c)
		}
	}
	r.Clients, r.Credentials = clients, creds
	return r, nil
}

// DirectoryNames maps every directory's id to its name.
func (s *Service) DirectoryNames(ctx context.Context) (map[string]string, error) {
	ds, err := s.directoryRecords(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ds))
	for _, d := range ds {
		names[d.ID] = d.Name
	}
	return names, nil
}
