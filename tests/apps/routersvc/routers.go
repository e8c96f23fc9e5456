// SPDX-License-Identifier: Apache-2.0
package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/julienschmidt/httprouter"
	"github.com/labstack/echo/v4"
)

func ginRouter() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
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

func chiRouter() http.Handler {
	r := chi.NewRouter()
	h := func(w http.ResponseWriter, req *http.Request) {
		route := chi.RouteContext(req.Context()).RoutePattern()
		answer(w, "chi", route, req.Method, status(route, req.Method, chi.URLParam(req, "id")), "ok")
	}
	unmatched := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) { answer(w, "chi", "", req.Method, code, "no route") }
	}
	r.Get("/health", h)
	r.Get("/users/{id}", h)
	r.Post("/users", h)
	r.Get("/counts", h)
	api := chi.NewRouter()
	api.Get("/items/{id}", h)
	api.NotFound(unmatched(http.StatusNotFound))
	api.MethodNotAllowed(unmatched(http.StatusMethodNotAllowed))
	r.Mount("/api/v1", api)
	r.NotFound(unmatched(http.StatusNotFound))
	r.MethodNotAllowed(unmatched(http.StatusMethodNotAllowed))
	return r
}

func echoRouter() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
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

func muxRouter() http.Handler {
	r := mux.NewRouter()
	h := func(w http.ResponseWriter, req *http.Request) {
		route, _ := mux.CurrentRoute(req).GetPathTemplate()
		answer(w, "mux", route, req.Method, status(route, req.Method, mux.Vars(req)["id"]), "ok")
	}
	unmatched := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) { answer(w, "mux", "", req.Method, code, "no route") }
	}
	r.HandleFunc("/health", h).Methods(http.MethodGet)
	r.HandleFunc("/users/{id}", h).Methods(http.MethodGet)
	r.HandleFunc("/users", h).Methods(http.MethodPost)
	r.HandleFunc("/counts", h).Methods(http.MethodGet)
	r.PathPrefix("/api/v1").Subrouter().HandleFunc("/items/{id}", h).Methods(http.MethodGet)
	r.NotFoundHandler = unmatched(http.StatusNotFound)
	r.MethodNotAllowedHandler = unmatched(http.StatusMethodNotAllowed)
	return r
}

// httprouter (v1.3.0, its newest release) does not tell a handler its route: each handler is
// registered with the template it answers.
func httpRouter() http.Handler {
	r := httprouter.New()
	h := func(route string) httprouter.Handle {
		return func(w http.ResponseWriter, req *http.Request, ps httprouter.Params) {
			answer(w, "httprouter", route, req.Method, status(route, req.Method, ps.ByName("id")), "ok")
		}
	}
	unmatched := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) { answer(w, "httprouter", "", req.Method, code, "no route") }
	}
	for _, route := range []struct{ method, path string }{
		{http.MethodGet, "/health"}, {http.MethodGet, "/users/:id"}, {http.MethodPost, "/users"},
		{http.MethodGet, "/counts"}, {http.MethodGet, "/api/v1/items/:id"},
	} {
		r.Handle(route.method, route.path, h(route.path))
	}
	r.NotFound = unmatched(http.StatusNotFound)
	r.MethodNotAllowed = unmatched(http.StatusMethodNotAllowed)
	return r
}
