package callbacks

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

func TestBody(t *testing.T) {
	key := signer.Key{ID: "k", PartnerID: "1622", APIKey: "key", Environment: signer.Production}
	for _, size := range []int{0, 2 << 10, 1536 << 10} {
		body := Body("job-42", size)
		signed, err := signertest.SignCallback(key, body, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
		require.NoError(t, err)
		if size > 1000 {
			assert.InDelta(t, size, len(signed), 4, "signed size")
		}
		var cb struct {
			PartnerParams struct {
				JobID string `json:"job_id"`
			}
			FullData struct{ Photo string }
		}
		require.NoError(t, json.Unmarshal(signed, &cb))
		assert.Equal(t, "job-42", cb.PartnerParams.JobID)
	}
}
