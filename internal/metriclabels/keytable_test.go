package metriclabels

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKeyTableFindsEveryKeySearchedOrIndexed(t *testing.T) {
	table := &KeyTable[int]{}
	for n := 0; n < 2*linearKeys; n++ {
		table = table.With(KeyName{n % 2, "key-" + strconv.Itoa(n)}, n)
		assert.Equal(t, n+1, table.Len())
		assert.Equal(t, n+1 > linearKeys, table.index != nil, "indexed past linearKeys")
		for i := 0; i <= n; i++ {
			got, ok := table.Find(KeyName{i % 2, "key-" + strconv.Itoa(i)})
			assert.True(t, ok, "key-%d in a table of %d", i, n+1)
			assert.Equal(t, i, got)
		}
		_, ok := table.Find(KeyName{(n + 1) % 2, "key-" + strconv.Itoa(n)})
		assert.False(t, ok, "same ID, other environment")
		_, ok = table.Find(KeyName{n % 2, "key-" + strconv.Itoa(n+1)})
		assert.False(t, ok, "an ID not added")
	}
}
