package console

import (
	"errors"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/adminapi"
	"github.com/scimgate/scimgate/auth"
	"github.com/scimgate/scimgate/tokenstore"
)

// methodOption is one authentication method the client form offers.
type methodOption struct {
	Value, Label, Hint string
}

var methods = []methodOption{
	{string(auth.MethodStaticToken), "Static token", "The identity provider sends an opst- token you create here."},
	{string(auth.MethodClientCredentials), "OAuth 2.0 client credentials", "The identity provider gets short-lived tokens from scimgate's token endpoint with a client id and secret."},
	{string(auth.MethodIdPJWT), "JWT from identity provider", "The identity provider sends JWTs it signs itself (e.g. a Keycloak service account)."},
}

func methodLabel(m string) string {
	for _, o := range methods {
		if o.Value == m {
			return o.Label
		}
	}
	return m
}

// validityOption is one token validity the token form offers.
type validityOption struct{ Value, Label string }

var validities = []validityOption{
	{"1d", "1 day"}, {"7d", "7 days"}, {"30d", "30 days"}, {"1mo", "1 month"}, {"3mo", "3 months"}, {"6mo", "6 months"}, {"1y", "1 year"},
}

// fieldErrors maps form field names to messages; "" holds a message about
// the form as a whole.
type fieldErrors map[string]string

// clientForm is the "+ SCIM client" form as typed.
type clientForm struct {
	Name, Provider, Method    string
	Issuer, Subject, Audience string
	JWKSURL                   string
	Scopes                    []string // allowed scopes of client_credentials
	// Directory is the id of the directory the client provisions into.
	Directory string
	Errors    fieldErrors
	// Directories are the choices of the directory picker.
	Directories []adminapi.DirectoryJSON
	Methods     []methodOption
	KnownScopes []string
}

func newClientForm() clientForm {
	return clientForm{Method: string(auth.MethodStaticToken), Scopes: []string{auth.ScopeSCIM}, Directory: tokenstore.DefaultDirectory,
		Methods: methods, KnownScopes: auth.KnownScopes}
}

// HasScope reports whether scope s is ticked.
func (f clientForm) HasScope(s string) bool { return slices.Contains(f.Scopes, s) }

func readClientForm(ctx *gin.Context) clientForm {
	f := newClientForm()
	f.Name = strings.TrimSpace(ctx.PostForm("name"))
	f.Provider = strings.TrimSpace(ctx.PostForm("provider"))
	f.Method = ctx.PostForm("method")
	f.Issuer = strings.TrimSpace(ctx.PostForm("issuer"))
	f.Subject = strings.TrimSpace(ctx.PostForm("subject"))
	f.Audience = strings.TrimSpace(ctx.PostForm("audience"))
	f.JWKSURL = strings.TrimSpace(ctx.PostForm("jwks_url"))
	f.Scopes = ctx.PostFormArray("scopes")
	if d := strings.TrimSpace(ctx.PostForm("directory")); d != "" {
		f.Directory = d
	}
	return f
}

// spec turns the form into a ClientSpec; settings of the other methods
// are left out, so switching the method after typing them is harmless.
func (f clientForm) spec() adminapi.ClientSpec {
	s := adminapi.ClientSpec{Name: f.Name, Provider: f.Provider, Method: f.Method, Directory: f.Directory}
	switch auth.Method(f.Method) {
	case auth.MethodIdPJWT:
		s.IdPJWTSpec = adminapi.IdPJWTSpec{Issuer: f.Issuer, Subject: f.Subject, Audience: f.Audience, JWKSURL: f.JWKSURL}
	case auth.MethodClientCredentials:
		s.ClientCredentialsSpec = adminapi.ClientCredentialsSpec{Scopes: f.Scopes}
	}
	return s
}

// editForm is the client page's edit form (see clientedit.go): the
// settings of every client, and those of its method (Method).
type editForm struct {
	Name, Provider string
	Enabled        bool
	Method         string
	// RateLimit is the client's own rate ("50/s"; "" the default), Burst
	// its burst ("" the rate).
	RateLimit, Burst string
	// idp_jwt settings.
	Issuer, Subject, Audience, JWKSURL string
	// Scopes are the allowed scopes of a client_credentials client, out of
	// KnownScopes.
	Scopes      []string
	KnownScopes []string
	Errors      fieldErrors
}

// HasScope reports whether scope s is ticked.
func (f editForm) HasScope(s string) bool { return slices.Contains(f.Scopes, s) }

// tokenForm is the "+ Token" form as typed.
type tokenForm struct {
	Name        string
	Scopes      []string
	Expires     string
	AllowIPs    string
	Errors      fieldErrors
	KnownScopes []string
	Validities  []validityOption
}

func newTokenForm() tokenForm {
	return tokenForm{Scopes: []string{auth.ScopeSCIM}, Expires: "1y", KnownScopes: auth.KnownScopes, Validities: validities}
}

// HasScope reports whether scope s is ticked.
func (f tokenForm) HasScope(s string) bool { return slices.Contains(f.Scopes, s) }

func readTokenForm(ctx *gin.Context) tokenForm {
	f := newTokenForm()
	f.Name = strings.TrimSpace(ctx.PostForm("name"))
	f.Scopes = ctx.PostFormArray("scopes")
	f.Expires = ctx.PostForm("expires")
	f.AllowIPs = strings.TrimSpace(ctx.PostForm("allow_ips"))
	return f
}

func (f tokenForm) spec() (adminapi.TokenSpec, fieldErrors) {
	if len(f.Scopes) == 0 {
		return adminapi.TokenSpec{}, fieldErrors{"scopes": "Tick at least one scope."}
	}
	var allow []string
	for _, a := range strings.FieldsFunc(f.AllowIPs, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		allow = append(allow, a)
	}
	return adminapi.TokenSpec{Name: f.Name, Scopes: f.Scopes, Expires: f.Expires, AllowIPs: allow}, nil
}

// formErrors turns a refusal of the Service into messages on the fields
// it names; ok is false for errors that are not the user's input.
func formErrors(err error) (fieldErrors, bool) {
	var fe *adminapi.FieldError
	switch {
	case errors.As(err, &fe):
		return fieldErrors{fe.Field: fe.Msg}, true
	case errors.Is(err, tokenstore.ErrNoDirectory):
		return fieldErrors{"directory": "the directory does not exist or is being deleted"}, true
	case errors.Is(err, tokenstore.ErrSubjectTaken):
		return fieldErrors{"subject": "another client already has this issuer and subject"}, true
	case errors.Is(err, tokenstore.ErrAlreadyExists):
		return fieldErrors{"name": "a client with that name already exists"}, true
	case errors.Is(err, adminapi.ErrWrongMethod):
		return fieldErrors{"": err.Error()}, true
	}
	return nil, false
}
