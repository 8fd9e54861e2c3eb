package signertest_test

import (
	"encoding/json"
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
