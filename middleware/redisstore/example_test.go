package redisstore_test

import (
	"log"
	"log/slog"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/redisstore"
	"github.com/smileguard/smileguard/signer"
)

// Every instance of the receiver is set up alike, with the same Redis.
func Example() {
	keyring, err := signer.NewKeyring(signer.Key{
		ID: "production-2026-11", PartnerID: "1622", APIKey: "your-production-api-key", Environment: signer.Production,
	})
	if err != nil {
		log.Fatal(err)
	}
	// ContextTimeoutEnabled lets the store's Timeout bound each call.
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	store, err := redisstore.NewReplayStore(client, redisstore.ReplayConfig{Prefix: "payments:smileguard:"})
	if err != nil {
		log.Fatal(err)
	}
	limiter, err := redisstore.NewLimiter(client, redisstore.LimiterConfig{Prefix: "payments:smileguard:", Rate: 10, Burst: 20})
	if err != nil {
		log.Fatal(err)
	}
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Limiter:   limiter,
		Callback:  middleware.CallbackConfig{Keyring: keyring, Replay: store},
		Logger:    slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("POST /smileid/callback", guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A genuine, fresh, first delivery, on whichever instance it
		// arrived.
	})))
}

// A limiter that lets requests through when Redis fails, logging each.
// The replay store still refuses them while Redis is down if it is kept
// in the same Redis.
func ExampleNewLimiter_failOpen() {
	client := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	limiter, err := redisstore.NewLimiter(client, redisstore.LimiterConfig{
		Rate: 10, Burst: 20,
		FailOpen: true, Logger: slog.Default(),
	})
	if err != nil {
		log.Fatal(err)
	}
	http.Handle("POST /webhook", limiter.Handler(http.NotFoundHandler()))
}
