package memtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

var sink []byte

func TestBytesPerCall(t *testing.T) {
	assert.Zero(t, BytesPerCall(100, func() {}))
	got := BytesPerCall(100, func() { sink = make([]byte, 64<<10) })
	assert.GreaterOrEqual(t, got, uint64(64<<10))
	assert.Less(t, got, uint64(65<<10))
}
