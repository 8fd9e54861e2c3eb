package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkCallbackAuth measures the credential check in front of a handler
// that does nothing, beside that handler alone. Every case compares with
// all four accepted credentials of its scheme.
func BenchmarkCallbackAuth(b *testing.B) {
	nothing := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	cfg := AuthConfig{
		Basic: []BasicCredential{{User: "smileid", Password: "p1-" + strings.Repeat("x", 29)}, {User: "smileid", Password: "p2-" + strings.Repeat("y", 29)},
			{User: "smileid", Password: "p3-" + strings.Repeat("z", 29)}, {User: "smileid", Password: basicPassword}},
		Bearer: []BearerToken{"t1-" + BearerToken(strings.Repeat("a", 40)), "t2-" + BearerToken(strings.Repeat("b", 40)),
			"t3-" + BearerToken(strings.Repeat("c", 40)), bearerToken},
	}
	auth := newAuth(b, cfg)
	cases := []struct {
		name          string
		h             http.Handler
		authorization string
	}{
		{"without middleware", nothing, ""},
		{"Basic accepted", auth.Handler(nothing), basic("smileid:" + basicPassword)},
		{"Bearer accepted", auth.Handler(nothing), "Bearer " + bearerToken},
		{"Bearer refused", auth.Handler(nothing), "Bearer " + strings.Repeat("w", len(bearerToken))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodPost, "/smileid/callback", nil)
			if c.authorization != "" {
				r.Header.Set("Authorization", c.authorization)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k := range w.h {
					delete(w.h, k)
				}
				c.h.ServeHTTP(w, r)
			}
		})
	}
}
