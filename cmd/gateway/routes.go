package main

import "github.com/gin-gonic/gin"

// reportRoutes tells cio.onRoute, if set, every route of e.
func reportRoutes(e *gin.Engine, cio cliIO) {
	if cio.onRoute == nil {
		return
	}
	for _, r := range e.Routes() {
		cio.onRoute(r.Method, r.Path)
	}
}
