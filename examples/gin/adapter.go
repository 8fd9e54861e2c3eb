package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// fromNetHTTP turns net/http middleware, such as (*middleware.Guard).Handler,
// into gin middleware. A request the middleware refuses is answered by it
// and aborted: no later gin handler runs. A request it admits continues down
// the gin chain with the request the middleware passed on, whose body is the
// re-injected callback and whose context holds the verified Callback.
func fromNetHTTP(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		admitted := false
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			admitted = true
			c.Request = r
			c.Next()
			// gin handlers write to c.Writer, not to w: tell w the final
			// status, so the guard knows whether the callback was handled
			// (2xx) or must be processed again when Smile ID retries.
			w.WriteHeader(c.Writer.Status())
		})).ServeHTTP(c.Writer, c.Request)
		if !admitted {
			c.Abort()
		}
	}
}
