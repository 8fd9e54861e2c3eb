package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// proxyArgs are the flags of a proxy in front of up that admits production
// callbacks from 127.0.0.1 directly and through the trusted proxy
// 127.0.0.2.
func proxyArgs(t testing.TB, up *upstream, extra ...string) []string {
	keys := writeKeys(t, "", prodKey)
	return append([]string{
		"--keys-file", keys,
		"--allow-production", "127.0.0.1",
		"--trusted-proxies", "127.0.0.2",
		"--upstream", up.URL,
	}, extra...)
}

// TestProxyForwardsGenuineCallbacks: genuine body- and header-signed
// callbacks reach the upstream byte for byte, with their headers, the
// verified Smileguard-* headers added and the client's own removed; the
// upstream's answer comes back as it was.
func TestProxyForwardsGenuineCallbacks(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, nil, proxyArgs(t, up, "--path", "/smileid/callback,/hooks/smileid/v3")...)

	t.Run("body-signed, with forged Smileguard headers", func(t *testing.T) {
		body := signed(t, prodKey, "job-body", fresh())
		h := http.Header{}
		h.Set("Smileguard-Key-Id", "forged")
		h.Set("smileguard-environment", "sandbox")
		h.Set("SMILEGUARD-FORMAT", "header")
		h.Set("Smileguard-Anything", "forged")
		h.Set("X-Custom", "kept")
		up.status.Store(http.StatusAccepted)
		defer up.status.Store(0)

		status, answer := post(t, defaultClient, p.url("/smileid/callback"), body, h)
		assert.Equal(t, http.StatusAccepted, status, answer)
		assert.Equal(t, "upstream says 202", answer)
		require.Equal(t, 1, up.count())
		got := up.last()
		assert.Equal(t, body, got.body, "the exact body")
		assert.Equal(t, "/smileid/callback", got.path)
		assert.Equal(t, []string{"prod-2026-11"}, got.header.Values("Smileguard-Key-Id"))
		assert.Equal(t, []string{"production"}, got.header.Values("Smileguard-Environment"))
		assert.Equal(t, []string{"body"}, got.header.Values("Smileguard-Format"))
		assert.Empty(t, got.header.Values("Smileguard-Anything"))
		assert.Equal(t, "kept", got.header.Get("X-Custom"))
		assert.Equal(t, "application/json", got.header.Get("Content-Type"))
		assert.Equal(t, "127.0.0.1", got.header.Get("X-Forwarded-For"))
	})

	t.Run("header-signed", func(t *testing.T) {
		body := v3Body("job_01hzx3v6k1y8f5m2c9t4q7w0ab")
		h := headerSigned(prodKey, fresh())
		status, answer := post(t, defaultClient, p.url("/smileid/callback"), body, h)
		assert.Equal(t, http.StatusOK, status, answer)
		require.Equal(t, 2, up.count())
		got := up.last()
		assert.Equal(t, body, got.body)
		assert.Equal(t, h.Get("Response-Signature"), got.header.Get("Response-Signature"))
		assert.Equal(t, h.Get("Response-Timestamp"), got.header.Get("Response-Timestamp"))
		assert.Equal(t, "header", got.header.Get("Smileguard-Format"))
		assert.Equal(t, "prod-2026-11", got.header.Get("Smileguard-Key-Id"))
	})

	t.Run("on the second path", func(t *testing.T) {
		status, _ := post(t, defaultClient, p.url("/hooks/smileid/v3"), v3Body("job_second_path"), headerSigned(prodKey, fresh()))
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, "/hooks/smileid/v3", up.last().path)
	})

	t.Run("through the trusted proxy", func(t *testing.T) {
		body := signed(t, prodKey, "job-proxied", fresh())
		h := http.Header{"X-Forwarded-For": {"127.0.0.1"}}
		status, _ := post(t, clientFrom("127.0.0.2", 10*time.Second), p.url("/smileid/callback"), body, h)
		assert.Equal(t, http.StatusOK, status)
		require.Equal(t, 4, up.count())
		assert.Equal(t, "127.0.0.1", up.last().header.Get("X-Forwarded-For"), "the admitted client, not the chain")
	})
}

// TestProxyRefuses: forged, stale, replayed, spoofed and otherwise bad
// callbacks never reach the upstream; a retry of a handled delivery is
// acknowledged without reaching it again.
func TestProxyRefuses(t *testing.T) {
	up := newUpstream(t)
	keys := writeKeys(t, "", prodKey, sandboxKey)
	p := startProxy(t, nil, "--keys-file", keys, "--allow-production", "127.0.0.1", "--allow-sandbox", "127.0.0.4",
		"--trusted-proxies", "127.0.0.2", "--upstream", up.URL)
	url := p.url("/smileid/callback")

	handledAt := fresh()
	handled := signed(t, prodKey, "job-handled", handledAt)
	status, _ := post(t, defaultClient, url, handled, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1, up.count())

	tampered := signed(t, prodKey, "job-tampered", handledAt) // the handled pair on another body
	for _, tc := range []struct {
		name   string
		client *http.Client
		body   []byte
		header http.Header
		status int
	}{
		{"forged: another API key", defaultClient, signed(t, stranger, "job-forged", fresh()), nil, http.StatusUnauthorized},
		{"stale: six minutes old", defaultClient, signed(t, prodKey, "job-stale", time.Now().Add(-6*time.Minute)), nil, http.StatusUnauthorized},
		{"from the future", defaultClient, signed(t, prodKey, "job-future", time.Now().Add(6*time.Minute)), nil, http.StatusUnauthorized},
		{"replayed pair with another body", defaultClient, tampered, nil, http.StatusUnauthorized},
		{"sandbox key from a production address", defaultClient, signed(t, sandboxKey, "job-crossed", fresh()), nil, http.StatusUnauthorized},
		{"header-signed, forged", defaultClient, v3Body("job_forged"), headerSigned(stranger, fresh()), http.StatusUnauthorized},
		{"spoofed X-Forwarded-For from an untrusted peer", clientFrom("127.0.0.3", 10*time.Second),
			signed(t, prodKey, "job-spoofed", fresh()), http.Header{"X-Forwarded-For": {"127.0.0.1"}}, http.StatusForbidden},
		{"trusted proxy forwarding for a stranger", clientFrom("127.0.0.2", 10*time.Second),
			signed(t, prodKey, "job-stranger", fresh()), http.Header{"X-Forwarded-For": {"127.0.0.1, 10.9.9.9"}}, http.StatusForbidden},
		{"not JSON", defaultClient, []byte("signature=x&timestamp=y"), nil, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, answer := post(t, tc.client, url, tc.body, tc.header)
			assert.Equal(t, tc.status, status, answer)
		})
	}

	t.Run("retry of the handled delivery is acknowledged", func(t *testing.T) {
		status, answer := post(t, defaultClient, url, handled, nil)
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, answer, "already handled")
	})
	t.Run("GET is not a callback", func(t *testing.T) {
		resp, err := defaultClient.Get(url)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
	t.Run("other paths are not served", func(t *testing.T) {
		status, _ := post(t, defaultClient, p.url("/other"), signed(t, prodKey, "job-other", fresh()), nil)
		assert.Equal(t, http.StatusNotFound, status)
	})

	assert.Equal(t, 1, up.count(), "only the genuine callback reached the upstream")
	denied := p.waitLog("allowlist: request denied", 5*time.Second)
	assert.Equal(t, "127.0.0.3", denied["client_ip"], "the 403 log names the refused address")
	assert.NotContains(t, p.log(), prodKey.APIKey)
	assert.NotContains(t, p.log(), string(handled[len(handled)-60:]), "no signature or body in the log")
}

// TestUpstreamFailureReleasesDelivery: an upstream that answers 500, is
// unreachable, breaks off or is too slow never gets its delivery
// acknowledged: the retry reaches it again.
func TestUpstreamFailureReleasesDelivery(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, nil, proxyArgs(t, up, "--upstream-timeout", "400ms")...)
	url := p.url("/smileid/callback")

	for _, tc := range []struct {
		name   string
		break_ func()
		status int
	}{
		{"upstream answers 500", func() { up.status.Store(http.StatusInternalServerError) }, http.StatusInternalServerError},
		{"upstream hangs up", func() { up.hangUp.Store(true) }, http.StatusBadGateway},
		{"upstream too slow", func() { up.delay.Store(int64(1500 * time.Millisecond)) }, http.StatusGatewayTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := signed(t, prodKey, "job-"+strings.ReplaceAll(tc.name, " ", "-"), fresh())
			before := up.count()
			tc.break_()
			status, answer := post(t, defaultClient, url, body, nil)
			assert.Equal(t, tc.status, status, answer)
			up.status.Store(0)
			up.hangUp.Store(false)
			up.delay.Store(0)
			up.waitFinished(t, 1)

			status, answer = postSettled(t, url, body)
			assert.Equal(t, http.StatusOK, status, "the retry is forwarded: %s", answer)
			assert.Equal(t, before+2, up.count(), "the retry reached the upstream")
			up.waitFinished(t, 1)

			status, answer = post(t, defaultClient, url, body, nil)
			assert.Equal(t, http.StatusOK, status)
			assert.Contains(t, answer, "already handled")
			assert.Equal(t, before+2, up.count(), "the handled delivery is not forwarded again")
		})
	}

	t.Run("upstream down", func(t *testing.T) {
		gone := newUpstream(t)
		gone.Close()
		q := startProxy(t, nil, proxyArgs(t, gone)...)
		body := signed(t, prodKey, "job-down", fresh())
		status, _ := post(t, defaultClient, q.url("/smileid/callback"), body, nil)
		assert.Equal(t, http.StatusBadGateway, status)
		status, _ = post(t, defaultClient, q.url("/smileid/callback"), body, nil)
		assert.Equal(t, http.StatusBadGateway, status, "released, so tried again, not acknowledged")
	})
}

// TestClientGoneWhileUpstreamWorks: when Smile ID hangs up while the
// upstream works, the upstream's answer still decides: a 2xx is
// acknowledged on retry, anything else releases the delivery.
func TestClientGoneWhileUpstreamWorks(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, nil, proxyArgs(t, up)...)
	url := p.url("/smileid/callback")
	impatient := clientFrom("127.0.0.1", 150*time.Millisecond)

	t.Run("upstream handles it", func(t *testing.T) {
		body := signed(t, prodKey, "job-gone-ok", fresh())
		before := up.count()
		up.delay.Store(int64(600 * time.Millisecond))
		_, _, err := tryPost(impatient, url, body, nil)
		require.Error(t, err, "the client gave up")
		up.waitFinished(t, 1)
		up.delay.Store(0)

		status, answer := postSettled(t, url, body)
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, answer, "already handled")
		assert.Equal(t, before+1, up.count(), "handled once")
	})
	t.Run("upstream fails it", func(t *testing.T) {
		body := signed(t, prodKey, "job-gone-500", fresh())
		before := up.count()
		up.delay.Store(int64(600 * time.Millisecond))
		up.status.Store(http.StatusServiceUnavailable)
		_, _, err := tryPost(impatient, url, body, nil)
		require.Error(t, err)
		up.waitFinished(t, 1)
		up.delay.Store(0)
		up.status.Store(0)

		status, answer := postSettled(t, url, body)
		assert.Equal(t, http.StatusOK, status, answer)
		assert.NotContains(t, answer, "already handled")
		assert.Equal(t, before+2, up.count(), "released, so forwarded again")
	})
}

// postSettled posts body as a retry once the first attempt's claim is
// over: the proxy finishes a claim just after the upstream answers, and a
// retry that comes sooner is told 409, as Smile ID's would be. It tries
// for at most five seconds.
func postSettled(t testing.TB, url string, body []byte) (int, string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, answer := post(t, defaultClient, url, body, nil)
		if status != http.StatusConflict || time.Now().After(deadline) {
			return status, answer
		}
		time.Sleep(20 * time.Millisecond)
	}
}
