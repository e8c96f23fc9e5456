// SPDX-License-Identifier: Apache-2.0
package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func init() { routers["echo"] = echoRouter }

// instrumentEcho adds middleware (the `-tags otel` build's otelecho).
var instrumentEcho = func(*echo.Echo) {}

func echoRouter() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	instrumentEcho(e)
	h := func(c echo.Context) error {
		route, method := c.Path(), c.Request().Method
		answer(c.Response(), "echo", route, method, status(route, method, c.Param("id")), "ok")
		return nil
	}
	e.GET("/health", h)
	e.GET("/users/:id", h)
	e.POST("/users", h)
	e.GET("/counts", h)
	e.Group("/api/v1").GET("/items/:id", h)
	// Only the router's own not-found and method-not-allowed errors reach here.
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		code := http.StatusInternalServerError
		if he, ok := err.(*echo.HTTPError); ok {
			code = he.Code
		}
		answer(c.Response(), "echo", "", c.Request().Method, code, "no route")
	}
	return e
}
