package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key the store and the limiter write, so that
// they share a Redis database with other data without clashing.
const DefaultPrefix = "smileguard:"

// DefaultTimeout bounds each call to Redis. A callback that waits longer is
// refused with 503 (Smile ID retries it) rather than held open while Redis
// recovers.
const DefaultTimeout = time.Second

// conn is what the store and the limiter share: the client, the key prefix
// and the time each call may take.
type conn struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
}

// newConn validates what the store and the limiter configure alike. what
// names the configuration struct in errors.
func newConn(client redis.UniversalClient, prefix string, timeout time.Duration, what string) (conn, error) {
	if client == nil {
		return conn{}, errors.New("redisstore: the Redis client is nil")
	}
	if timeout < 0 {
		return conn{}, fmt.Errorf("redisstore: %s.Timeout %v is negative", what, timeout)
	}
	if !contextTimeoutEnabled(client) {
		return conn{}, errors.New("redisstore: the Redis client's ContextTimeoutEnabled option must be true, " +
			"or a slow Redis holds requests past the Timeout")
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return conn{client: client, prefix: prefix, timeout: timeout}, nil
}

// contextTimeoutEnabled reports whether client honours context deadlines
// on its sockets. Without that option go-redis ignores them and waits out
// its own ReadTimeout (5 s by default) on every retry. Clients of other
// types cannot be asked and are trusted.
func contextTimeoutEnabled(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// run runs script on the key with the call's own deadline: by its SHA1
// (EVALSHA), sending the script (EVAL) only when Redis does not know it.
func (c *conn) run(ctx context.Context, script *redis.Script, key string, args ...any) *redis.Cmd {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return script.Run(ctx, c.client, []string{key}, args...)
}

// eval runs script on the key with the call's own deadline, sending the
// script itself (EVAL): a call that Redis gets only after the client gave
// up on it (Redis stalled, then resumed) is still run, where EVALSHA to a
// Redis that forgot its scripts (restarted) would answer NOSCRIPT to no
// one, and the EVAL that follows it would never be sent.
func (c *conn) eval(ctx context.Context, script *redis.Script, key string, args ...any) *redis.Cmd {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return script.Eval(ctx, c.client, []string{key}, args...)
}

// opError is a failed call to Redis. It matches both the middleware's
// sentinel (middleware.ErrReplayStore or middleware.ErrLimiterUnavailable)
// and the client's own error (context.DeadlineExceeded, a *net.OpError).
type opError struct {
	op       string
	sentinel error
	err      error
}

func (e *opError) Error() string   { return "redisstore: " + e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() []error { return []error{e.sentinel, e.err} }
