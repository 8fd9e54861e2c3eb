package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out))
	assert.Contains(t, out.String(), "accepted, smile_job_id 0000000101")
	assert.Contains(t, out.String(), "job_complete=true job_success=true code=1012, answer's signature verified")
	assert.Contains(t, out.String(), "answered by an impostor:   refused")
	assert.Contains(t, out.String(), "with a token:        clear Verified job-2, answer's signature verified")
	assert.Contains(t, out.String(), "with a token:        clear Verified job-3")
	assert.Contains(t, out.String(), "tokens fetched from /v3/token:              1")
	assert.Contains(t, out.String(), "/v3/enhanced_kyc/sync, by an impostor:     refused")
}

func testKey() signer.Key {
	return signer.Key{ID: "sandbox", PartnerID: "085", APIKey: rand.Text(), Environment: signer.Sandbox}
}

func TestFakeSmileIDRefusesWhatIsNotSigned(t *testing.T) {
	key := testKey()
	smileID := newFakeSmileID(key)
	defer smileID.Close()
	hosts := []string{strings.TrimPrefix(smileID.URL, "https://")}
	other := testKey()
	other.APIKey = "another key"
	tests := []struct {
		name   string
		client *http.Client
	}{
		{"a plain client", smileID.Client()},
		{"a client signing with another key", newClient(other, smileID.Client().Transport, hosts)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := submitJob(context.Background(), tt.client, smileID.URL, map[string]any{"id_type": "NIN"})
			assert.ErrorContains(t, err, "401 Unauthorized")
			_, err = getJobStatus(context.Background(), tt.client, smileID.URL, "user-1", "job-1")
			assert.ErrorContains(t, err, "401 Unauthorized")
			_, err = enhancedKYC(context.Background(), tt.client, smileID.URL, map[string]any{"job_id": "j"})
			if tt.client.Transport == smileID.Client().Transport {
				assert.ErrorContains(t, err, "401 Unauthorized", "no token, no answer")
			} else {
				assert.ErrorIs(t, err, signer.ErrToken, "another key gets no token")
				assert.NotContains(t, err.Error(), other.APIKey)
			}
		})
	}
}

func TestClientSignsAndVerifies(t *testing.T) {
	key := testKey()
	smileID := newFakeSmileID(key)
	defer smileID.Close()
	client := newClient(key, smileID.Client().Transport, []string{strings.TrimPrefix(smileID.URL, "https://")})
	ctx := context.Background()

	jobID, err := submitJob(ctx, client, smileID.URL, map[string]any{"id_type": "NIN"})
	require.NoError(t, err)
	assert.Equal(t, "0000000101", jobID)
	status, err := getJobStatus(ctx, client, smileID.URL, "user-1", "job-1")
	require.NoError(t, err)
	assert.Equal(t, jobStatus{JobComplete: true, JobSuccess: true, Code: "1012"}, status)

	result, err := enhancedKYC(ctx, client, smileID.URL, map[string]any{"job_id": "job-9"})
	require.NoError(t, err)
	assert.Equal(t, kycResult{JobID: "job-9", Status: "clear", Message: "Verified job-9"}, result)

	smileID.forge.Store(true)
	_, err = getJobStatus(ctx, client, smileID.URL, "user-1", "job-1")
	assert.ErrorIs(t, err, signer.ErrInvalidResponseSignature, "an answer not signed with the key is refused")
	assert.NotContains(t, err.Error(), key.APIKey)
	_, err = enhancedKYC(ctx, client, smileID.URL, map[string]any{"job_id": "job-9"})
	assert.ErrorIs(t, err, signer.ErrInvalidResponseSignature, "a v3 answer too")
}
