package middleware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallbackAuthHandler(t *testing.T) {
	var logs strings.Builder
	cfg := testAuthConfig()
	cfg.Logger = jsonLogger(&logs)
	next := &recorder{}
	h := newAuth(t, cfg).Handler(next)
	challenges := []string{`Basic realm="smileid-callback", charset="UTF-8"`, `Bearer realm="smileid-callback"`}

	tests := []struct {
		name    string
		headers []string
		status  int
		body    string
	}{
		{"right credentials pass", []string{basic(basicUser + ":" + basicPassword)}, 200, "handled"},
		{"right token passes", []string{"Bearer " + bearerToken}, 200, "handled"},
		{"no credentials", nil, 401, "middleware: credentials missing\n"},
		{"wrong password", []string{basic(basicUser + ":" + basicPassword[:10])}, 401, "middleware: credentials not accepted\n"},
		{"right password, wrong user", []string{basic("admin:" + basicPassword)}, 401, "middleware: credentials not accepted\n"},
		{"wrong token", []string{"Bearer " + strings.ToUpper(bearerToken)}, 401, "middleware: credentials not accepted\n"},
		{"another scheme", []string{"Digest x"}, 401, "middleware: authorization scheme not accepted\n"},
		{"malformed Basic", []string{"Basic " + basicPassword}, 400, "middleware: Basic credentials are not base64\n"},
		{"two headers", []string{"Bearer " + bearerToken, "Bearer " + bearerToken}, 400, "middleware: several Authorization headers\n"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := next.count()
			r := post([]byte(`{}`), "")
			r.RemoteAddr = fmt.Sprintf("192.0.2.%d:1234", i+1) // refusals are logged once per address and minute
			for _, v := range tt.headers {
				r.Header.Add("Authorization", v)
			}
			w := serve(h, r)
			assert.Equal(t, tt.status, w.Code)
			assert.Equal(t, tt.body, w.Body.String())
			if tt.status == 200 {
				assert.Equal(t, before+1, next.count())
				assert.Empty(t, w.Header().Values("WWW-Authenticate"))
				return
			}
			assert.Equal(t, before, next.count(), "next is not called")
			assert.Equal(t, challenges, w.Header().Values("WWW-Authenticate"), "one challenge per configured scheme")
			assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
		})
	}

	out := logs.String()
	assert.Equal(t, 7, strings.Count(out, `"level":"WARN","msg":"smileguard: callback rejected"`), "one record per refusal")
	assert.Contains(t, out, `"reason":"middleware: credentials not accepted","status":401`)
	assert.Contains(t, out, `"reason":"middleware: several Authorization headers","status":400`)
	for _, secret := range []string{basicPassword, basicPassword[:10], oldPassword, bearerToken, strings.ToUpper(bearerToken),
		strings.TrimPrefix(basic(basicUser+":"+basicPassword), "Basic ")} {
		assert.NotContains(t, out, secret, "no credential, right or wrong, in the logs")
	}
	assert.Equal(t, 2, next.count())
}

func TestCallbackAuthRejectedHandlerAndRealm(t *testing.T) {
	var reasons []error
	var sawChallenge []string
	a := newAuth(t, AuthConfig{
		Bearer: []BearerToken{bearerToken},
		Realm:  "acme callbacks",
		Rejected: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reasons = append(reasons, Reason(r))
			sawChallenge = w.Header().Values("WWW-Authenticate")
			_, ok := CallbackFromContext(r.Context())
			assert.False(t, ok)
			w.WriteHeader(http.StatusNotFound) // hide the endpoint from strangers
		}),
	})
	w := serve(a.Handler(&recorder{}), withAuthorization("Bearer nope"))
	assert.Equal(t, http.StatusNotFound, w.Code)
	require.Len(t, reasons, 1)
	assert.ErrorIs(t, reasons[0], ErrBadCredentials)
	assert.Equal(t, []string{`Bearer realm="acme callbacks"`}, sawChallenge, "the challenge is set before Rejected runs")
}

func TestCredentialsNeverPrintTheirSecrets(t *testing.T) {
	cred := BasicCredential{User: "smileid", Password: basicPassword}
	token := BearerToken(bearerToken)
	cfg := AuthConfig{Basic: []BasicCredential{cred}, Bearer: []BearerToken{token}}
	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10v"} {
		outputs[verb+" basic"] = fmt.Sprintf(verb, cred)
		outputs[verb+" basic pointer"] = fmt.Sprintf(verb, &cred)
		outputs[verb+" token"] = fmt.Sprintf(verb, token)
		outputs[verb+" config"] = fmt.Sprintf(verb, cfg)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "basic", cred, "token", token, "tokens", cfg.Bearer)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "basic", cred, "token", token)
	outputs["slog"] = logs.String()
	js, err := json.Marshal(cfg)
	require.NoError(t, err)
	outputs["json"] = string(js)

	for how, out := range outputs {
		assert.NotContains(t, out, basicPassword, how)
		assert.NotContains(t, out, bearerToken, how)
		assert.NotContains(t, out, fmt.Sprintf("%x", bearerToken)[:16], how)
		assert.NotContains(t, out, fmt.Sprintf("%x", basicPassword)[:16], how)
	}
	assert.Equal(t, `middleware.BasicCredential{User: "smileid", Password: [REDACTED]}`, outputs["%v basic"])
	assert.Equal(t, `middleware.BasicCredential{User:"smileid", Password:"[REDACTED]"}`, outputs["%#v basic"])
	assert.Equal(t, "[REDACTED]", outputs["%v token"])
	assert.Equal(t, `"[REDACTED]"`, outputs["%#v token"])
	assert.Contains(t, outputs["json"], `"Basic":[{"User":"smileid","Password":"[REDACTED]"}],"Bearer":["[REDACTED]"]`)
	assert.Contains(t, outputs["slog"], `"basic":{"user":"smileid","password":"[REDACTED]"},"token":"[REDACTED]"`)
}
