package middleware_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/replaytest"
)

func TestMemoryReplayStoreConformance(t *testing.T) {
	replaytest.Run(t, func(t *testing.T) middleware.ReplayStore {
		store, err := middleware.NewMemoryReplayStore(10)
		require.NoError(t, err)
		return store
	})
}
