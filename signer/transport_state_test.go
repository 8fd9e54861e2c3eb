package signer

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransportFollowsChangedFields(t *testing.T) {
	stub := &stubTransport{}
	tr := &Transport{Base: stub, Key: transportKey, Now: tickingClock()}
	send := func(rawURL string) error {
		req, _ := newRequest(t, http.MethodGet, rawURL, "")
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	require.NoError(t, send("https://testapi.smileidentity.com/v2/x"))

	other := Key{ID: "other", PartnerID: "2001", APIKey: "other-secret", Environment: Production}
	tr.Key = other
	require.NoError(t, send("https://api.smileidentity.com/v2/x"))

	copied := &Transport{Base: stub, Key: other, Hosts: []string{"example.com"}, Now: tr.Now}
	copied.state.Store(tr.state.Load()) // as if *tr had been copied after use
	require.NoError(t, send("https://example.com/v2/x"))
	require.NoError(t, func() error {
		req, _ := newRequest(t, http.MethodGet, "https://example.com/v2/x", "")
		resp, err := copied.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}())

	sent := stub.Sent()
	require.Len(t, sent, 4)
	assert.Equal(t, "085", sent[0].Header.Get("SmileID-Partner-ID"))
	assert.Equal(t, "2001", sent[1].Header.Get("SmileID-Partner-ID"), "the new key signs")
	assert.Empty(t, sent[2].Header.Get("SmileID-Partner-ID"), "example.com is not a host of tr")
	assert.Equal(t, "2001", sent[3].Header.Get("SmileID-Partner-ID"), "the copy's own Hosts count")
	assert.True(t, Verify(other.APIKey, "2001", sent[3].Header.Get("SmileID-Timestamp"), sent[3].Header.Get("SmileID-Request-Signature")))

	tr.Key.APIKey = ""
	assert.ErrorIs(t, send("https://example.com/"), ErrInvalidKey, "a broken key is noticed")
}

// TestAppendTimestampMatchesTheLayout holds the hand-written formatter (used
// by FormatTimestamp and the Transport) to time's own layout interpreter.
func TestAppendTimestampMatchesTheLayout(t *testing.T) {
	times := []time.Time{
		{},
		transportTime,
		time.Date(2023, 2, 13, 15, 7, 42, 214999999, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -5*3600)),
		time.Date(2026, 11, 21, 10, 0, 0, 1, time.FixedZone("", 13*3600+45*60)),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999000000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(1<<40, 0),
	}
	for i := int64(0); i < 2000; i++ {
		times = append(times, time.Unix(0, i*7919*int64(time.Hour)/3+i*1000003).In(time.FixedZone("", int(i%27-13)*3600)))
	}
	for _, at := range times {
		assert.Equal(t, at.UTC().Format(TimestampLayout), string(appendTimestamp(nil, at)), "%v", at)
		assert.Equal(t, at.UTC().Format(TimestampLayout), FormatTimestamp(at), "%v", at)
	}
}
