package redisstore

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two instances behind a load balancer, sharing one Redis: what one saw,
// the other knows.
func TestTwoInstancesShareReplayDefence(t *testing.T) {
	valid := signedBody(t, 0)
	tampered := bytes.Replace(valid, []byte(`"ResultCode":"1012"`), []byte(`"ResultCode":"1013"`), 1)
	require.NotEqual(t, valid, tampered)

	type step struct {
		instance    int
		body        []byte
		nextStatus  int // what next answers when it runs; 0: 200
		status      int
		reachesNext bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a replay to the second instance is acknowledged, not processed", []step{
			{0, valid, 0, 200, true},
			{1, valid, 0, 200, false},
			{0, valid, 0, 200, false},
		}},
		{"the pair with another body is refused by the second instance", []step{
			{0, valid, 0, 200, true},
			{1, tampered, 0, 401, false},
		}},
		{"a tampered body first binds the pair on both instances", []step{
			{1, tampered, 0, 200, true},
			{0, valid, 0, 401, false},
		}},
		{"a delivery one instance failed is processed by the other", []step{
			{0, valid, 500, 500, true},
			{1, valid, 0, 200, true},
			{0, valid, 0, 200, false},
			{1, valid, 0, 200, false},
		}},
		{"a released pair stays bound to its body on both", []step{
			{0, valid, 503, 503, true},
			{1, tampered, 0, 401, false},
			{1, valid, 0, 200, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startRedis(t)
			next := &handler{}
			instances := []*instance{
				newInstance(t, srv, instanceConfig{next: next}),
				newInstance(t, srv, instanceConfig{next: next}),
			}
			for i, s := range tt.steps {
				next.status.Store(int32(s.nextStatus))
				before := next.count()
				w := post(instances[s.instance], smileIP, s.body)
				assert.Equal(t, s.status, w.Code, "step %d: %s", i, w.Body)
				assert.Equal(t, s.reachesNext, next.count() == before+1, "step %d", i)
			}
		})
	}
}

func TestDeliveryInFlightOnOneInstanceGets409OnTheOther(t *testing.T) {
	srv := startRedis(t)
	next := &handler{block: make(chan struct{})}
	a := newInstance(t, srv, instanceConfig{next: next})
	b := newInstance(t, srv, instanceConfig{next: next})
	valid := signedBody(t, 0)

	first := make(chan int)
	go func() { first <- post(a, smileIP, valid).Code }()
	require.Eventually(t, func() bool { return next.count() == 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, http.StatusConflict, post(b, smileIP, valid).Code)
	close(next.block)
	assert.Equal(t, 200, <-first)
	assert.Equal(t, 200, post(b, smileIP, valid).Code)
	assert.Equal(t, 1, next.count())
}

func TestConcurrentDeliveriesAcrossInstancesReachTheHandlerOnce(t *testing.T) {
	srv := startRedis(t)
	next := &handler{}
	instances := []*instance{
		newInstance(t, srv, instanceConfig{next: next}),
		newInstance(t, srv, instanceConfig{next: next}),
	}
	valid := signedBody(t, 0)
	var wg sync.WaitGroup
	codes := make(chan int, 50)
	start := make(chan struct{})
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(h http.Handler) {
			defer wg.Done()
			<-start
			codes <- post(h, smileIP, valid).Code
		}(instances[i%2])
	}
	close(start)
	wg.Wait()
	close(codes)
	for code := range codes {
		assert.Contains(t, []int{200, 409}, code)
	}
	assert.Equal(t, 1, next.count())
}

func TestRateLimitHoldsAcrossInstances(t *testing.T) {
	srv := startRedis(t)
	next := &handler{}
	instances := []*instance{
		newInstance(t, srv, instanceConfig{next: next, limit: hourly(3)}),
		newInstance(t, srv, instanceConfig{next: next, limit: hourly(3)}),
	}
	for i := 0; i < 6; i++ {
		w := post(instances[i%2], smileIP, signedBody(t, time.Duration(i)*time.Second))
		if i < 3 {
			assert.Equal(t, 200, w.Code, "callback %d", i+1)
			continue
		}
		assert.Equal(t, http.StatusTooManyRequests, w.Code, "callback %d", i+1)
		assert.Equal(t, "3600", w.Header().Get("Retry-After"))
	}
	assert.Equal(t, 3, next.count(), "three callbacks in all, not three per instance")
	assert.Equal(t, 200, post(instances[1], otherSmileIP, signedBody(t, 10*time.Second)).Code, "another client has its own limit")
}
