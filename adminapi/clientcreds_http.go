package adminapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// rotateSecret is POST /clients/{id}/rotate-secret: a new client secret,
// shown once; the old one stops working at once.
func (h handlers) rotateSecret(c *gin.Context) {
	cl, secret, err := h.svc.RotateSecret(c.Request.Context(), c.Param("id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.log.InfoContext(c.Request.Context(), "client secret rotated", "client_id", cl.ID)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, ToClientSecretJSON(cl, secret))
}
