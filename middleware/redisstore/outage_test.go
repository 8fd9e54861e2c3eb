package redisstore

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/syncbuf"
)

// When Redis stops, no callback reaches a handler unchecked: every answer is
// 503, with the reason logged at Error, until Redis is back.
func TestRedisOutageFailsClosedAndRecovers(t *testing.T) {
	tests := []struct {
		name     string
		limit    *LimiterConfig
		limitLog string // what the log says of the limiter while Redis is down
	}{
		{"replay store alone", nil, ""},
		{"replay store and rate limit", hourly(100), "rate limiter unavailable"},
		{"a limiter failing open leaves the replay store to refuse", failOpen(hourly(100)), "admitted unchecked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startRedis(t)
			var logs syncbuf.Buffer
			if tt.limit != nil && tt.limit.FailOpen {
				tt.limit.Logger = jsonLogger(&logs)
			}
			next := &handler{}
			if tt.limit != nil {
				tt.limit.Timeout = 100 * time.Millisecond
			}
			cfg := instanceConfig{next: next, limit: tt.limit, timeout: 100 * time.Millisecond, logger: jsonLogger(&logs)}
			instances := []*instance{newInstance(t, srv, cfg), newInstance(t, srv, cfg)}
			accepted := signedBody(t, 0)
			require.Equal(t, 200, post(instances[0], smileIP, accepted).Code)

			srv.stop()
			for i := 0; i < 6; i++ {
				body := accepted // the replay of a handled delivery
				if i%2 == 1 {
					body = signedBody(t, time.Duration(i)*time.Second) // a new one
				}
				w := post(instances[i%2], smileIP, body)
				assert.Equal(t, http.StatusServiceUnavailable, w.Code, "request %d", i)
				assert.NotContains(t, w.Body.String(), strconv.Itoa(srv.port), "Redis's errors stay in the log")
			}
			assert.Equal(t, 1, next.count(), "nothing reached the handler while Redis was down")
			assert.Contains(t, logs.String(), `"level":"ERROR"`)
			if tt.limitLog != "" {
				assert.Contains(t, logs.String(), tt.limitLog)
			} else {
				assert.Contains(t, logs.String(), "replay store refused a callback")
			}

			srv.restart()
			// The server kept nothing on disk: what it knew is gone, but
			// it serves again, with the clients' pools reconnecting.
			assert.Equal(t, 200, post(instances[1], smileIP, signedBody(t, time.Minute)).Code)
			assert.Equal(t, 200, post(instances[0], smileIP, signedBody(t, time.Minute)).Code, "the replay is acknowledged again")
			assert.Equal(t, 2, next.count())
		})
	}
}

// pause stops Redis from answering any client for d.
func pause(t *testing.T, admin *redis.Client, d time.Duration) {
	require.NoError(t, admin.Do(context.Background(), "CLIENT", "PAUSE", d.Milliseconds()).Err())
}

func failOpen(cfg *LimiterConfig) *LimiterConfig {
	cfg.FailOpen = true
	return cfg
}

// A Redis that stops answering for longer than the Timeout is an outage
// too: the request is answered 503 within about the Timeout, not held.
func TestSlowRedisFailsClosed(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client()
	var logs syncbuf.Buffer
	next := &handler{}
	cfg := instanceConfig{next: next, limit: hourly(100), timeout: 50 * time.Millisecond, logger: jsonLogger(&logs)}
	cfg.limit.Timeout = 50 * time.Millisecond
	a := newInstance(t, srv, cfg)

	pause(t, admin, 300*time.Millisecond)
	w := post(a, smileIP, signedBody(t, 0))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, logs.String(), "context deadline exceeded")
	require.NoError(t, admin.Ping(context.Background()).Err(), "waits out the pause")

	assert.Equal(t, 200, post(a, smileIP, signedBody(t, 0)).Code)
	assert.Equal(t, 1, next.count())
}

// The handler ran, but Redis went away before the delivery could be marked
// handled: the handler's answer stands and the failure is logged.
func TestFinishFailureIsLogged(t *testing.T) {
	srv := startRedis(t)
	var logs syncbuf.Buffer
	next := &handler{block: make(chan struct{})}
	a := newInstance(t, srv, instanceConfig{next: next, timeout: 100 * time.Millisecond, logger: jsonLogger(&logs)})

	code := make(chan int)
	go func() { code <- post(a, smileIP, signedBody(t, 0)).Code }()
	require.Eventually(t, func() bool { return next.count() == 1 }, 5*time.Second, time.Millisecond)
	srv.stop()
	close(next.block)
	assert.Equal(t, 200, <-code)
	assert.Contains(t, logs.String(), "could not finish a delivery")
}
