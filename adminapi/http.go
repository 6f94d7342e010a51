package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/scimgate/scimgate/redisfault"
	"github.com/scimgate/scimgate/scimapi/scimerr"
	"github.com/scimgate/scimgate/server/bodyerr"
	"github.com/scimgate/scimgate/tokenstore"
)

// Prefix is where Mount is meant to be mounted.
const Prefix = "/admin/api/v1"

// maxBody bounds admin request bodies.
const maxBody = 64 << 10

// Mount registers the admin API on g (normally engine.Group(Prefix)):
//
//	GET, POST               /clients
//	GET, PATCH, DELETE      /clients/{id}
//	GET, POST               /clients/{id}/tokens
//	GET, DELETE             /clients/{id}/tokens/{tokenId}   (DELETE revokes)
//	POST                    /clients/{id}/tokens/{tokenId}/revoke
//	POST                    /clients/{id}/rotate-secret   (client_credentials)
//	GET, POST               /directories                  (see MountDirectories)
//	GET, PATCH, DELETE      /directories/{id}
//
// {id} is a client id or name. Every route requires the admin credential;
// with none configured every request gets 401.
func Mount(g *gin.RouterGroup, svc *Service, cred Credential, log *slog.Logger) {
	h := handlers{svc: svc, log: log}
	g.Use(requireAdmin(cred, log), recordOrigin)
	g.GET("/clients", h.listClients)
	g.POST("/clients", h.createClient)
	g.GET("/clients/:id", h.showClient)
	g.PATCH("/clients/:id", h.updateClient)
	g.DELETE("/clients/:id", h.deleteClient)
	g.GET("/clients/:id/tokens", h.listTokens)
	g.POST("/clients/:id/tokens", h.createToken)
	g.GET("/clients/:id/tokens/:tokenId", h.showToken)
	g.DELETE("/clients/:id/tokens/:tokenId", h.revokeToken)
	g.POST("/clients/:id/tokens/:tokenId/revoke", h.revokeToken)
	g.POST("/clients/:id/rotate-secret", h.rotateSecret)
	MountDirectories(g, svc, h)
}

// AuthFailedKey marks a request whose admin credential was wrong, so a
// failure guard in front of the admin routes can throttle guessing.
const AuthFailedKey = "scimgate.admin_auth_failed"

// requireAdmin admits only the configured admin bearer token.
func requireAdmin(cred Credential, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		scheme, tok, _ := strings.Cut(strings.TrimSpace(c.GetHeader("Authorization")), " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			c.Header("WWW-Authenticate", `Bearer realm="scimgate-admin"`)
			c.AbortWithStatusJSON(http.StatusUnauthorized, errorBody{Error: "admin authentication required"})
			return
		}
		if !cred.Verify(tok) {
			c.Set(AuthFailedKey, true)
			log.InfoContext(c.Request.Context(), "admin authentication failed",
				"configured", cred.Configured(), "ip", c.ClientIP())
			c.Header("WWW-Authenticate", `Bearer realm="scimgate-admin", error="invalid_token"`)
			c.AbortWithStatusJSON(http.StatusUnauthorized, errorBody{Error: "invalid admin credential"})
			return
		}
		c.Next()
	}
}

type handlers struct {
	svc *Service
	log *slog.Logger
}

type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// fail maps service errors to statuses, Redis trouble to 503 with
// Retry-After; unexpected ones are logged and answered with a generic 500.
func (h handlers) fail(c *gin.Context, err error) {
	var fe *FieldError
	var be *bodyerr.Error
	if failDirectory(c, err) {
		return
	}
	switch {
	case errors.As(err, &fe):
		c.JSON(http.StatusBadRequest, errorBody{Error: fe.Error(), Field: fe.Field})
	case errors.Is(err, tokenstore.ErrSubjectTaken):
		c.JSON(http.StatusConflict, errorBody{Error: "another client already has this issuer and subject", Field: "subject"})
	case errors.Is(err, tokenstore.ErrNotFound):
		c.JSON(http.StatusNotFound, errorBody{Error: "not found"})
	case errors.Is(err, tokenstore.ErrAlreadyExists):
		c.JSON(http.StatusConflict, errorBody{Error: "a client with that name already exists", Field: "name"})
	case errors.As(err, &be):
		c.JSON(be.Status, errorBody{Error: be.Detail})
	case errors.Is(err, ErrWrongMethod):
		c.JSON(http.StatusConflict, errorBody{Error: err.Error()})
	case bodyerr.ClientGone(c.Request, err):
		h.log.InfoContext(c.Request.Context(), "admin api request abandoned by the client", "route", c.FullPath())
		c.AbortWithStatus(bodyerr.StatusClientClosedRequest)
	case unavailable(c, h.log, err):
	default:
		h.log.ErrorContext(c.Request.Context(), "admin api failure", "route", c.FullPath(), "err", err.Error())
		c.JSON(http.StatusInternalServerError, errorBody{Error: "internal error"})
	}
}

// decode reads a JSON body strictly (unknown fields are errors).
func decode(c *gin.Context, v any) error {
	body := &bodyerr.Reader{R: io.LimitReader(c.Request.Body, maxBody)}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if body.Err != nil { // the client went away or was too slow
			return bodyerr.Classify(body.Err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fieldErr(te.Field, "wrong JSON type")
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fieldErr(strings.Trim(f, `"`), "unknown field")
		}
		return fieldErr("body", "not a JSON object: %v", err)
	}
	return nil
}

func (h handlers) createClient(c *gin.Context) {
	var spec ClientSpec
	if err := decode(c, &spec); err != nil {
		h.fail(c, err)
		return
	}
	cl, secret, err := h.svc.CreateClientWithSecret(c.Request.Context(), spec)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", fmt.Sprintf("%s/clients/%s", Prefix, cl.ID))
	if secret != "" {
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusCreated, ToClientSecretJSON(cl, secret))
		return
	}
	c.JSON(http.StatusCreated, ToClientJSON(cl))
}

func (h handlers) showClient(c *gin.Context) {
	cl, err := h.svc.Client(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ToClientJSON(cl))
}

func (h handlers) updateClient(c *gin.Context) {
	var p ClientPatch
	if err := decode(c, &p); err != nil {
		h.fail(c, err)
		return
	}
	cl, err := h.svc.UpdateClient(c.Request.Context(), c.Param("id"), p)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ToClientJSON(cl))
}

func (h handlers) deleteClient(c *gin.Context) {
	if _, err := h.svc.DeleteClient(c.Request.Context(), c.Param("id")); err != nil {
		h.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (h handlers) listTokens(c *gin.Context) {
	ts, err := h.svc.ListTokens(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	now := h.svc.now()
	out := make([]TokenJSON, len(ts))
	for i, t := range ts {
		out[i] = ToTokenJSON(t, now)
	}
	c.JSON(http.StatusOK, gin.H{"tokens": out})
}

func (h handlers) createToken(c *gin.Context) {
	var spec TokenSpec
	if err := decode(c, &spec); err != nil {
		h.fail(c, err)
		return
	}
	plain, t, err := h.svc.CreateToken(c.Request.Context(), c.Param("id"), spec)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := ToTokenJSON(t, h.svc.now())
	out.Token = plain
	c.Header("Location", fmt.Sprintf("%s/clients/%s/tokens/%s", Prefix, t.ClientID, t.ID))
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, out)
}

func (h handlers) showToken(c *gin.Context) {
	t, err := h.svc.Token(c.Request.Context(), c.Param("id"), c.Param("tokenId"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ToTokenJSON(t, h.svc.now()))
}

func (h handlers) revokeToken(c *gin.Context) {
	t, err := h.svc.RevokeToken(c.Request.Context(), c.Param("id"), c.Param("tokenId"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ToTokenJSON(t, h.svc.now()))
}

// unavailable answers Redis trouble (see package redisfault) with 503 and
// Retry-After and reports whether err was such trouble.
func unavailable(c *gin.Context, log *slog.Logger, err error) bool {
	k := redisfault.Classify(err)
	if k == redisfault.None {
		return false
	}
	log.WarnContext(c.Request.Context(), "admin api: storage unavailable", "route", c.FullPath(), "kind", string(k), "err", err.Error())
	scimerr.Unavailable(k).Header(c.Writer.Header())
	c.JSON(http.StatusServiceUnavailable, errorBody{Error: redisfault.Detail(k)})
	return true
}
