package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDemoEveryRowAsExpected(t *testing.T) {
	var out bytes.Buffer
	ok, err := run(context.Background(), &out)
	require.NoError(t, err)
	require.True(t, ok, "every row as expected:\n%s", out.String())
	text := out.String()
	assert.Equal(t, 0, strings.Count(text, "MISMATCH"))
	assert.Equal(t, 1, strings.Count(text, "19 of 19 scenarios behaved as expected"))
	assert.Equal(t, 1, strings.Count(text, "The handler ran 3 times. The guard refused 44 requests: one in each of 14 rows, and 30 of the flood."),
		"the refusals counted match the table:\n%s", text)
	for _, want := range []string{
		"Smile ID posts a genuine production callback                200       200     yes              ok      handled by your code",
		"Smile ID posts a genuine v3 webhook (signed in headers)     200       200     yes              ok      handled by your code",
		"a stale timestamp (signed 10 minutes ago)                   401       401     no               ok      middleware: timestamp too old",
		"v3: the header pair moved into body members                 401       401     no               ok      middleware: signature replayed with a different body",
		"a spoofed X-Forwarded-For, straight from an untrusted peer  403       403     no               ok      allowlist: forbidden",
		"a body sent as Content-Type: text/plain                     415       415     no               ok      middleware: content type must be application/json",
		"a flood of 30 requests from one address (the last answer)   429       429     no               ok      middleware: rate limit exceeded",
	} {
		assert.Equal(t, 1, strings.Count(text, want), "an aligned table: %q", want)
	}
}

func TestDemoWithAttackersOverIPv6(t *testing.T) {
	if !canBind("::1") {
		t.Skip("no ::1 on this machine's loopback interface")
	}
	var out bytes.Buffer
	ok, err := runOn(context.Background(), &out, ipv6Attackers)
	require.NoError(t, err)
	assert.True(t, ok, "the layout macOS gets works as well:\n%s", out.String())
	assert.Contains(t, out.String(), "directly, from ::1")
}

func TestDemoPrintsNoKey(t *testing.T) {
	layout, err := pickLoopback()
	require.NoError(t, err)
	d, err := start(layout)
	require.NoError(t, err)
	defer d.close()
	var out bytes.Buffer
	// play is false if the log held a key (see report); this checks what
	// the demo prints.
	require.True(t, d.play(context.Background(), &out, time.Now()), out.String())
	for _, secret := range []string{d.production.APIKey, d.sandbox.APIKey} {
		assert.NotContains(t, out.String(), secret)
	}
}

func TestReportFlagsEveryDifference(t *testing.T) {
	d := &demo{}
	want := scenario{name: "a forged signature", wantStatus: 401}
	tests := []struct {
		name    string
		result  result
		leaks   []string
		verdict string
	}{
		{"status differs", result{scenario: want, status: 200}, nil, "MISMATCH: want 401"},
		{"handler reached", result{scenario: want, status: 401, handled: true}, nil, "MISMATCH: want reached handler no"},
		{"request failed", result{scenario: want, err: errors.New("connection refused")}, nil, "MISMATCH: connection refused"},
		{"secret in the log", result{scenario: want, status: 401}, []string{"an API key"}, "the log holds an API key: MISMATCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			assert.False(t, report(&out, []result{tt.result}, d, tt.leaks, time.Second))
			assert.Contains(t, out.String(), tt.verdict)
		})
	}
	var out bytes.Buffer
	assert.True(t, report(&out, []result{{scenario: want, status: 401}}, d, nil, time.Second))
	assert.Contains(t, out.String(), "1 of 1 scenarios behaved as expected")
}

func TestLeaksFindsSecretsInTheLog(t *testing.T) {
	layout, err := pickLoopback()
	require.NoError(t, err)
	d, err := start(layout)
	require.NoError(t, err)
	defer d.close()
	body := d.sign(d.production, callbackBody, 0)
	assert.Empty(t, d.leaks())
	d.logs.Write([]byte(`{"signature":"` + d.signatures[0] + `"}`))
	assert.Equal(t, []string{"a signature"}, d.leaks())
	d.logs.Write([]byte(d.sandbox.APIKey))
	d.logs.Write(body)
	assert.Equal(t, []string{"an API key", "a signature", "a callback body"}, d.leaks())
	assert.True(t, strings.Contains(string(body), "Ada Lovelace"))
}
