package flagenv

import (
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lookupIn(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func newSet() (*Set, *string, *List, *Duration) {
	s := New("test")
	name := s.String("redis-url", "", "")
	var list List
	s.Var(&list, "allow-production", "")
	d := Duration(time.Second)
	s.Var(&d, "key-max-age", "")
	s.Env("redis-url", "allow-production", "key-max-age")
	return s, name, &list, &d
}

func TestParse(t *testing.T) {
	t.Run("the variable sets a flag left alone", func(t *testing.T) {
		s, url, list, _ := newSet()
		require.NoError(t, s.Parse(nil, lookupIn(map[string]string{"SMILEGUARD_REDIS_URL": "redis://r:6379", "SMILEGUARD_ALLOW_PRODUCTION": "1.2.3.4, 5.6.7.8"})))
		assert.Equal(t, "redis://r:6379", *url)
		assert.Equal(t, List{"1.2.3.4", "5.6.7.8"}, *list)
		assert.Equal(t, "SMILEGUARD_REDIS_URL (--redis-url)", s.Source("redis-url"))
		assert.True(t, s.IsSet("redis-url"))
	})
	t.Run("the command line wins", func(t *testing.T) {
		s, url, _, _ := newSet()
		require.NoError(t, s.Parse([]string{"--redis-url", "redis://flag"}, lookupIn(map[string]string{"SMILEGUARD_REDIS_URL": "redis://env"})))
		assert.Equal(t, "redis://flag", *url)
		assert.Equal(t, "--redis-url", s.Source("redis-url"))
	})
	t.Run("an empty variable is unset", func(t *testing.T) {
		s, url, _, _ := newSet()
		require.NoError(t, s.Parse(nil, lookupIn(map[string]string{"SMILEGUARD_REDIS_URL": ""})))
		assert.Empty(t, *url)
		assert.False(t, s.IsSet("redis-url"))
	})
	t.Run("a bad variable is named with its flag, without its value", func(t *testing.T) {
		s, _, _, _ := newSet()
		err := s.Parse(nil, lookupIn(map[string]string{"SMILEGUARD_KEY_MAX_AGE": "secret-looking"}))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SMILEGUARD_KEY_MAX_AGE (--key-max-age): ")
		assert.NotContains(t, err.Error(), "secret-looking")
	})
	t.Run("a flag without Env ignores its variable", func(t *testing.T) {
		s := New("test")
		at := s.String("at", "", "")
		require.NoError(t, s.Parse(nil, lookupIn(map[string]string{"SMILEGUARD_AT": "x"})))
		assert.Empty(t, *at)
	})
	t.Run("help", func(t *testing.T) {
		s, _, _, _ := newSet()
		assert.ErrorIs(t, s.Parse([]string{"--help"}, lookupIn(nil)), flag.ErrHelp)
	})
}

func TestDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "2h": 2 * time.Hour, "300ms": 300 * time.Millisecond} {
		var d Duration
		require.NoError(t, d.Set(in), in)
		assert.Equal(t, want, time.Duration(d), in)
	}
	var d Duration
	assert.Error(t, d.Set("ninety days"))
	assert.Error(t, d.Set("-3d"))
	d = Duration(90 * 24 * time.Hour)
	assert.Equal(t, "90d", d.String())
}

func TestList(t *testing.T) {
	var l List
	require.NoError(t, l.Set("a,b"))
	require.NoError(t, l.Set("c"))
	assert.Equal(t, List{"a", "b", "c"}, l)
	assert.Error(t, l.Set("a,,b"), "an empty value is a typo, not nothing")
}
