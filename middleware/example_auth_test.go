package middleware_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

func ExampleNewGuard_callbackAuthentication() {
	keyring, _ := signer.NewKeyring(signer.Key{
		ID: "production-2026-11", PartnerID: "1622", APIKey: "your-production-api-key", Environment: signer.Production,
	})
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  middleware.CallbackConfig{Keyring: keyring},
		// The credentials you asked Smile ID to send with your callbacks.
		// During a rotation, list the old and the new one.
		Auth: &middleware.AuthConfig{
			Basic: []middleware.BasicCredential{{User: "smileid", Password: "a-long-random-password"}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	h := guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	body, _ := signertest.SignCallback(keyring.Keys()[0], []byte(`{"ResultCode":"1012"}`), time.Now())
	send := func(user, password string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		if user != "" {
			r.SetBasicAuth(user, password)
		}
		r.RemoteAddr = "52.213.46.74:40000" // one of Smile ID's addresses
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	w := send("", "")
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	fmt.Println(send("smileid", "a-guess").Code)
	fmt.Println(send("smileid", "a-long-random-password").Code)
	// Output:
	// 401 Basic realm="smileid-callback", charset="UTF-8"
	// 401
	// 200
}

func ExampleCallbackAuth_Check() {
	auth, err := middleware.NewCallbackAuth(middleware.AuthConfig{
		Bearer: []middleware.BearerToken{"new-token-2026-11", "old-token-2026-08"}, // both, while Smile ID switches
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, header := range []string{"", "Bearer old-token-2026-08", "bearer new-token-2026-11", "Bearer wrong", "Bearer two words"} {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		err := auth.Check(r)
		fmt.Println(middleware.StatusCode(err), errors.Is(err, middleware.ErrBadCredentials), err)
	}
	fmt.Println(middleware.AuthConfig{Bearer: []middleware.BearerToken{"new-token-2026-11"}}) // tokens never print
	// Output:
	// 401 false middleware: credentials missing
	// 200 false <nil>
	// 200 false <nil>
	// 401 true middleware: credentials not accepted
	// 400 false middleware: bearer token has a character other than visible ASCII
	// {[] [[REDACTED]]  <nil> <nil>}
}
