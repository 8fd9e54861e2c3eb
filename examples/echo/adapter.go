package main

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// fromNetHTTP turns net/http middleware, such as (*middleware.Guard).Handler,
// into echo middleware. A request the middleware refuses is answered by it
// and goes no further. A request it admits reaches next with the request the
// middleware passed on, whose body is the re-injected callback and whose
// context holds the verified Callback.
//
// echo.WrapMiddleware does almost this, but returns next's error to echo,
// which answers it after the guard has finished: the guard then takes a
// failed callback for a handled one and acknowledges Smile ID's retry
// instead of processing it. Here the error is answered inside the guard.
func fromNetHTTP(mw func(http.Handler) http.Handler) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c.SetRequest(r)
				c.SetResponse(echo.NewResponse(w, c.Echo()))
				if err := next(c); err != nil {
					c.Error(err)
				}
			})).ServeHTTP(c.Response(), c.Request())
			return nil
		}
	}
}
