// SPDX-License-Identifier: Apache-2.0
package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func init() { routers["gin"] = ginRouter }

// instrumentGin adds middleware before any route (the `-tags otel` build's otelgin).
var instrumentGin = func(*gin.Engine) {}

func ginRouter() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	instrumentGin(r)
	h := func(c *gin.Context) {
		route, method := c.FullPath(), c.Request.Method
		answer(c.Writer, "gin", route, method, status(route, method, c.Param("id")), "ok")
	}
	r.GET("/health", h)
	r.GET("/users/:id", h)
	r.POST("/users", h)
	r.GET("/counts", h)
	r.Group("/api/v1").GET("/items/:id", h)
	r.NoRoute(func(c *gin.Context) { answer(c.Writer, "gin", "", c.Request.Method, http.StatusNotFound, "no route") })
	return r
}
