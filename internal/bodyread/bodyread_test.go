package bodyread

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/memtest"
)

func TestRead(t *testing.T) {
	errBroken := errors.New("broken")
	body := strings.Repeat("0123456789", 1000) // 10,000 bytes
	tests := []struct {
		name     string
		r        io.Reader
		declared int64
		limit    int64
		want     string
		err      error
	}{
		{"declared length", strings.NewReader(body), int64(len(body)), 20_000, body, nil},
		{"no declared length", strings.NewReader(body), -1, 20_000, body, nil},
		{"declared too short", strings.NewReader(body), 10, 20_000, body, nil},
		{"declared too long", strings.NewReader(body), 15_000, 20_000, body, nil},
		{"declared over the limit", strings.NewReader(body), 1 << 40, 20_000, body, nil},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(body)), -1, 20_000, body, nil},
		{"data with io.EOF", iotest.DataErrReader(strings.NewReader(body)), int64(len(body)), 20_000, body, nil},
		{"empty", strings.NewReader(""), 0, 20_000, "", nil},
		{"exactly the limit", strings.NewReader(body), -1, int64(len(body)), body, nil},
		{"one byte over the limit: limit+1 bytes", strings.NewReader(body), -1, int64(len(body)) - 1, body, nil},
		{"far over the limit: limit+1 bytes", strings.NewReader(body), int64(len(body)), 100, body[:101], nil},
		{"a failing reader", io.MultiReader(strings.NewReader(body[:10]), iotest.ErrReader(errBroken)), -1, 20_000, "", errBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.r, tt.declared, tt.limit)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestReadNeverReadsPastLimitPlusOne(t *testing.T) {
	src := bytes.NewReader(make([]byte, 1<<20))
	got, err := Read(src, -1, 1000)
	require.NoError(t, err)
	assert.Len(t, got, 1001)
	assert.Equal(t, int64(1<<20-1001), int64(src.Len()), "bytes left unread")
}

func TestReadBelievesADeclaredLengthOnlyOnceBytesCome(t *testing.T) {
	// A sender declares a large body and sends nothing.
	stalled := func() { _, _ = Read(iotest.ErrReader(io.ErrUnexpectedEOF), 8<<20, 8<<20) }
	assert.LessOrEqual(t, memtest.BytesPerCall(10, stalled), uint64(MaxPrealloc+1024))

	// Once bytes come, the buffer grows to the declared length at once.
	if raceEnabled {
		return // the race detector keeps slices.Grow's temporary on the heap
	}
	body := make([]byte, 1<<20)
	read := func() { _, _ = Read(bytes.NewReader(body), int64(len(body)), 8<<20) }
	assert.Less(t, memtest.BytesPerCall(10, read), uint64(len(body))*3/2, "one buffer of the declared size, and the first")
}
