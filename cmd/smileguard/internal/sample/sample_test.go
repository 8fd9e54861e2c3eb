package sample

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// TestStyles: each style writes its SDK's shape (PROTOCOL.md),
// and the signer reads every one back to the same instant.
func TestStyles(t *testing.T) {
	at := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)
	whole := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		style Style
		at    time.Time
		want  string
	}{
		{ISOMillis, at, "2026-11-21T10:00:00.123Z"},
		{Python, at, "2026-11-21T10:00:00.123456+00:00"},
		{Python, whole, "2026-11-21T10:00:00+00:00"},
		{Ruby, at, "2026-11-21 10:00:00 +0000"},
		{PHP, at, "2026-11-21T10:00:00+00:00"},
		{Java, at, "2026-11-21T10:00:00.123456789Z"},
		{Java, whole, "2026-11-21T10:00:00Z"},
		{Java, time.Date(2026, 11, 21, 10, 0, 0, 123000000, time.UTC), "2026-11-21T10:00:00.123Z"},
		{Unix, at, "1795255200"},
		{UnixMilli, at, "1795255200123"},
	} {
		got, err := tc.style.Format(tc.at)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.style)
		parsed, err := signer.ParseTimestamp(got)
		require.NoError(t, err, got)
		assert.WithinDuration(t, tc.at, parsed, time.Second, got)
	}
	_, err := Style("cobol").Format(at)
	assert.Error(t, err)
}

// TestBodies: the sample bodies are JSON objects of their format's shape,
// with fresh ids each time.
func TestBodies(t *testing.T) {
	now := time.Now()
	var v1, v3 map[string]any
	require.NoError(t, json.Unmarshal(Body(middleware.BodySigned, now), &v1))
	require.NoError(t, json.Unmarshal(Body(middleware.HeaderSigned, now), &v3))
	assert.Contains(t, v1, "SmileJobID")
	assert.Regexp(t, `^job_[0-9a-hjkmnp-tv-z]{26}$`, v3["job_id"])
	assert.NotEqual(t, Body(middleware.HeaderSigned, now), Body(middleware.HeaderSigned, now))
}

// TestSign: a header-signed callback keeps its body and carries the
// signature of the timestamp it names, with the partner id trimmed when
// asked.
func TestSign(t *testing.T) {
	key := signer.Key{ID: "k", PartnerID: "0042", APIKey: "sample-key", Environment: signer.Sandbox}
	body := []byte(`{"job_id":"x"}`)
	s, err := Sign(key, body, Options{Format: middleware.HeaderSigned, At: time.Now(), TrimmedPartnerID: true})
	require.NoError(t, err)
	assert.Equal(t, body, s.Body)
	assert.True(t, signer.Verify(key.APIKey, "42", s.Header.Get("Response-Timestamp"), s.Header.Get("Response-Signature")))
	_, err = Sign(key, []byte(`[1]`), Options{At: time.Now()})
	assert.Error(t, err, "a body-signed callback must be a JSON object")
}
