package signer

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// vector is one entry of testdata/signature_vectors.json.
type vector struct {
	Name      string `json:"name"`
	APIKey    string `json:"api_key"`
	Timestamp string `json:"timestamp"`
	PartnerID string `json:"partner_id"`
	Signature string `json:"signature"`
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	data, err := os.ReadFile("testdata/signature_vectors.json")
	require.NoError(tb, err)
	var file struct{ Vectors []vector }
	require.NoError(tb, json.Unmarshal(data, &file))
	require.NotEmpty(tb, file.Vectors)
	return file.Vectors
}
