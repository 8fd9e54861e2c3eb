package signertest_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

var key = signer.Key{ID: "k1", PartnerID: "085", APIKey: "513205c6-c420-44e5-ab85-370986dc3f19", Environment: signer.Sandbox}

func TestSignCallback(t *testing.T) {
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"SmileJobID":"0000001","signature":"old","PartnerParams":{"signature":"nested"},"ResultCode":"1012"}`)
	signed, err := signertest.SignCallback(key, body, at)
	require.NoError(t, err)

	var got map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(signed, &got))
	assert.Equal(t, `"2026-11-21T10:00:00.000Z"`, string(got["timestamp"]))
	assert.Equal(t, `"god6JxrCoop75JLqY38Fp3CPuk+HqBLSu6iBp5zA9YQ="`, string(got["signature"]), "the shared vector for partner 085")
	assert.Equal(t, `{"signature":"nested"}`, string(got["PartnerParams"]), "nested members are untouched")
	assert.Equal(t, `"1012"`, string(got["ResultCode"]))
	assert.Equal(t,
		`{"SmileJobID":"0000001","signature":"god6JxrCoop75JLqY38Fp3CPuk+HqBLSu6iBp5zA9YQ=","PartnerParams":{"signature":"nested"},"ResultCode":"1012","timestamp":"2026-11-21T10:00:00.000Z"}`,
		string(signed), "the old signature is replaced where it stood and the other members keep their order")
	assert.Contains(t, string(body), `"old"`, "the input is not modified")
}

func TestSignCallbackWithTimestamp(t *testing.T) {
	signed, err := signertest.SignCallbackWithTimestamp(key, []byte(`{}`), "2026-11-21 10:00:00 +0000")
	require.NoError(t, err)
	var got struct{ Signature, Timestamp string }
	require.NoError(t, json.Unmarshal(signed, &got))
	assert.Equal(t, "2026-11-21 10:00:00 +0000", got.Timestamp)
	assert.True(t, signer.Verify(key.APIKey, key.PartnerID, got.Timestamp, got.Signature))
}

func TestSignCallbackRefusesNonObjects(t *testing.T) {
	for _, body := range []string{``, `[]`, `"x"`, `null`, `{`, `{"a":1} x`} {
		_, err := signertest.SignCallback(key, []byte(body), time.Now())
		assert.Error(t, err, body)
	}
}

func TestCallbackHeaders(t *testing.T) {
	at := time.Date(2026, 11, 21, 10, 0, 0, 123456789, time.UTC)
	h := signertest.CallbackHeaders(key, at)
	assert.Equal(t, http.Header{
		"Response-Signature": {signer.Sign(key.APIKey, "085", "2026-11-21T10:00:00.123Z")},
		"Response-Timestamp": {"2026-11-21T10:00:00.123Z"},
	}, h)
	assert.Len(t, h.Values("response-signature"), 1, "canonical names: Get and Values find them")
	ring, err := signer.NewKeyring(key)
	require.NoError(t, err)
	_, err = ring.Verify(h.Get("Response-Timestamp"), h.Get("Response-Signature"))
	assert.NoError(t, err)
}

func TestSignerHandsOutAMillisecondEach(t *testing.T) {
	fixed := time.Date(2026, 11, 21, 10, 0, 0, 500_000, time.UTC) // sub-millisecond part dropped
	s := &signertest.Signer{Key: key, Now: func() time.Time { return fixed }}
	const goroutines, each = 8, 50
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var ts, sig string
				if (g+i)%2 == 0 {
					body, err := s.SignCallback([]byte(`{"SmileJobID":"1"}`))
					if !assert.NoError(t, err) {
						return
					}
					var got struct{ Signature, Timestamp string }
					if !assert.NoError(t, json.Unmarshal(body, &got)) {
						return
					}
					ts, sig = got.Timestamp, got.Signature
				} else {
					h := s.CallbackHeaders()
					ts, sig = h.Get("Response-Timestamp"), h.Get("Response-Signature")
				}
				assert.True(t, signer.Verify(key.APIKey, key.PartnerID, ts, sig))
				mu.Lock()
				assert.False(t, seen[ts], "timestamp %s handed out twice", ts)
				seen[ts] = true
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	require.Len(t, seen, goroutines*each)
	assert.True(t, seen["2026-11-21T10:00:00.000Z"], "the first at Now")
	assert.True(t, seen[signer.FormatTimestamp(fixed.Add((goroutines*each-1)*time.Millisecond))], "then a millisecond each")

	t.Run("a clock that moves on is followed", func(t *testing.T) {
		now := fixed
		s := &signertest.Signer{Key: key, Now: func() time.Time { return now }}
		assert.Equal(t, fixed.Truncate(time.Millisecond), s.Next())
		now = fixed.Add(time.Hour)
		assert.Equal(t, now.Truncate(time.Millisecond), s.Next())
		now = fixed // backwards: never behind the last
		assert.Equal(t, fixed.Add(time.Hour+time.Millisecond).Truncate(time.Millisecond), s.Next())
	})

	t.Run("the zero Now is the wall clock", func(t *testing.T) {
		s := &signertest.Signer{Key: key}
		before := time.Now().Truncate(time.Millisecond)
		assert.False(t, s.Next().Before(before))
	})
}
