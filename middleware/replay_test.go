package middleware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

func TestReplayDefence(t *testing.T) {
	valid := signedBody(t, productionKey, 0)
	tampered := bytes.Replace(valid, []byte(`"ResultCode":"1012"`), []byte(`"ResultCode":"1013"`), 1)
	require.NotEqual(t, valid, tampered)
	reordered := bytes.Replace(valid, []byte(`{"SmileJobID"`), []byte(`{ "SmileJobID"`), 1)
	// The same pair spelled with JSON escapes, carrying a tampered body.
	escapedSignature := escapeFirstByte(t, tampered, "signature")
	escapedTimestamp := escapeFirstByte(t, tampered, "timestamp")

	type step struct {
		body        []byte
		nextStatus  int // what next answers when it runs; 0: 200
		status      int
		reachesNext bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a retried delivery is acknowledged, not processed twice", []step{
			{valid, 0, 200, true},
			{valid, 0, 200, false},
			{valid, 0, 200, false},
		}},
		{"the same pair with a tampered body is refused", []step{
			{valid, 0, 200, true},
			{tampered, 0, 401, false},
		}},
		{"a tampered body first binds the pair against the genuine one", []step{
			{tampered, 0, 200, true},
			{valid, 0, 401, false},
		}},
		{"white space changes the body", []step{
			{valid, 0, 200, true},
			{reordered, 0, 401, false},
		}},
		{"a delivery the handler failed is released for the retry", []step{
			{valid, 500, 500, true},
			{valid, 0, 200, true},
			{valid, 0, 200, false},
		}},
		{"a released pair stays bound to its body", []step{
			{valid, 503, 503, true},
			{tampered, 0, 401, false},
			{valid, 0, 200, true},
		}},
		{"the pair spelled with escapes is the same pair", []step{
			{valid, 0, 200, true},
			{escapedSignature, 0, 401, false},
			{escapedTimestamp, 0, 401, false},
		}},
		{"a 4xx from the handler releases too", []step{
			{valid, 422, 422, true},
			{valid, 202, 202, true},
			{valid, 0, 200, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &recorder{}
			h := newVerifier(t, CallbackConfig{}).Handler(next)
			for i, s := range tt.steps {
				next.status = s.nextStatus
				before := next.count()
				w := serve(h, post(s.body, "production"))
				assert.Equal(t, s.status, w.Code, "step %d: %s", i, w.Body)
				assert.Equal(t, s.reachesNext, next.count() == before+1, "step %d", i)
			}
		})
	}
}

// escapeFirstByte returns body with the first byte of the string value of
// its top-level member name written as a \u00XX escape, which decodes to
// the same string.
func escapeFirstByte(t *testing.T, body []byte, name string) []byte {
	t.Helper()
	prefix := []byte(`"` + name + `":"`)
	i := bytes.Index(body, prefix)
	require.GreaterOrEqual(t, i, 0, name)
	at := i + len(prefix)
	out := append([]byte(nil), body[:at]...)
	out = append(out, fmt.Sprintf(`\u%04x`, body[at])...)
	return append(out, body[at+1:]...)
}

func TestInFlightDeliveryGets409(t *testing.T) {
	next := &recorder{block: make(chan struct{})}
	h := newVerifier(t, CallbackConfig{}).Handler(next)
	valid := signedBody(t, productionKey, 0)

	first := make(chan int)
	go func() { first <- serve(h, post(valid, "")).Code }()
	require.Eventually(t, func() bool { return next.count() == 1 }, 5*time.Second, time.Millisecond)

	w := serve(h, post(valid, ""))
	assert.Equal(t, http.StatusConflict, w.Code)
	close(next.block)
	assert.Equal(t, 200, <-first)
	assert.Equal(t, 200, serve(h, post(valid, "")).Code)
	assert.Equal(t, 1, next.count())
}

func TestConcurrentIdenticalDeliveriesReachTheHandlerOnce(t *testing.T) {
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{}).Handler(next)
	valid := signedBody(t, productionKey, 0)
	var wg sync.WaitGroup
	codes := make(chan int, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- serve(h, post(valid, "")).Code
		}()
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		assert.Contains(t, []int{200, 409}, code)
	}
	assert.Equal(t, 1, next.count())
}

func TestPanickingHandlerReleasesTheDelivery(t *testing.T) {
	calls := 0
	h := newVerifier(t, CallbackConfig{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			panic(http.ErrAbortHandler)
		}
	}))
	valid := signedBody(t, productionKey, 0)
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { serve(h, post(valid, "")) })
	assert.Equal(t, 200, serve(h, post(valid, "")).Code)
	assert.Equal(t, 2, calls, "the retry after a panic is processed")
	assert.Equal(t, 200, serve(h, post(valid, "")).Code)
	assert.Equal(t, 2, calls)
}

func TestReplayEntriesExpireAfterTwiceTheTolerance(t *testing.T) {
	store, err := NewMemoryReplayStore(0)
	require.NoError(t, err)
	now := testNow
	clock := func() time.Time { return now }
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Replay: store, Now: clock, Tolerance: time.Minute}).Handler(next)
	body := signedBody(t, productionKey, time.Minute) // signed at the edge of the future window

	require.Equal(t, 200, serve(h, post(body, "")).Code)
	// At twice the tolerance the timestamp, one tolerance in the past,
	// still passes the freshness check: the entry must outlive it.
	now = now.Add(2 * time.Minute)
	assert.Equal(t, 200, serve(h, post(body, "")).Code)
	assert.Equal(t, 1, next.count(), "still remembered at twice the tolerance")
	assert.Equal(t, 1, store.Len())

	now = testNow.Add(2*time.Minute + time.Second)
	w := serve(h, post(body, ""))
	assert.Equal(t, 401, w.Code, "by the time the entry expires the timestamp is stale")
	now = now.Add(time.Second) // the store sweeps in ticks of about 268 ms
	fresh, err := signertest.SignCallback(productionKey, []byte(callbackBody), now)
	require.NoError(t, err)
	require.Equal(t, 200, serve(h, post(fresh, "")).Code)
	assert.Equal(t, 1, store.Len(), "the expired entry was swept when the next delivery came")
}

func TestTamperedReplayIsLoggedAtWarn(t *testing.T) {
	valid := signedBody(t, productionKey, 0)
	tampered := bytes.Replace(valid, []byte(`"ResultCode":"1012"`), []byte(`"ResultCode":"1013"`), 1)
	var logs strings.Builder
	h := newVerifier(t, CallbackConfig{Logger: jsonLogger(&logs)}).Handler(&recorder{})
	require.Equal(t, 200, serve(h, post(valid, "")).Code)
	logs.Reset()

	assert.Equal(t, 401, serve(h, post(tampered, "")).Code)
	assert.Contains(t, logs.String(), `"level":"WARN"`)
	assert.Contains(t, logs.String(), ErrReplayed.Error())
	var fields struct{ Signature string }
	require.NoError(t, json.Unmarshal(valid, &fields))
	assert.NotContains(t, logs.String(), fields.Signature, "the signature is not logged")
	assert.NotContains(t, logs.String(), "1013", "the body is not logged")
}

func TestFullReplayStoreFailsClosed(t *testing.T) {
	store, err := NewMemoryReplayStore(2)
	require.NoError(t, err)
	var logs strings.Builder
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Replay: store, Logger: jsonLogger(&logs)}).Handler(next)
	for i := 0; i < 2; i++ {
		require.Equal(t, 200, serve(h, post(signedBody(t, productionKey, time.Duration(i)*time.Second), "")).Code)
	}
	w := serve(h, post(signedBody(t, productionKey, 3*time.Second), ""))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, 2, next.count())
	assert.Contains(t, logs.String(), `"level":"ERROR"`)
	assert.Contains(t, logs.String(), "replay store is full")
	assert.Equal(t, 200, serve(h, post(signedBody(t, productionKey, 0), "")).Code, "known deliveries are still answered")
}

// The states are checked by TestMemoryReplayStoreConformance
// (middleware/replaytest), which the Redis store passes too. The tests
// below look at what the suite cannot: the store's two clocks, its sweep,
// its bound and its index.
func TestMemoryReplayStoreConfig(t *testing.T) {
	_, err := NewMemoryReplayStore(-1)
	require.Error(t, err)
	assert.Equal(t, "conflict", ReplayConflict.String())
	assert.Equal(t, "unknown", ReplayState(0).String())

	var zero MemoryReplayStore
	d := Delivery{ID: sha256.Sum256([]byte("pair")), Now: testNow, TTL: time.Minute, Lease: time.Second}
	require.ErrorIs(t, zero.Finish(context.Background(), d, true), ErrClaimLost, "the zero store knows nothing")
	state, err := zero.Begin(context.Background(), d)
	require.NoError(t, err)
	assert.Equal(t, ReplayNew, state, "and is ready to use")
	assert.Equal(t, DefaultMaxReplayEntries, zero.max)
}

func TestMemoryReplayStoreExpiresInTimeOrder(t *testing.T) {
	store, err := NewMemoryReplayStore(1000)
	require.NoError(t, err)
	ctx := context.Background()
	// Entries with mixed TTLs, 1 to 500 seconds: the sweep must free each
	// once it has expired, whatever came before it.
	for i := 0; i < 500; i++ {
		ttl := time.Duration((i*7919)%500+1) * time.Second
		_, err := store.Begin(ctx, Delivery{ID: sha256.Sum256([]byte{byte(i), byte(i >> 8)}), Now: testNow, TTL: ttl})
		require.NoError(t, err)
	}
	for s := 1; s <= 500; s++ {
		// A tick of the sweep (about 268 ms) after the s-second entry expired.
		now := testNow.Add(time.Duration(s)*time.Second + 300*time.Millisecond)
		_, err := store.Begin(ctx, Delivery{ID: sha256.Sum256([]byte("probe")), Now: now, TTL: time.Nanosecond})
		require.NoError(t, err)
		assert.Equal(t, 500-s+1, store.Len(), "after %ds", s) // the probe itself is not swept yet
	}
}

// A wall clock stepped back (an NTP step, a restored VM snapshot) while the
// monotonic clock runs on must not forget a pair whose timestamp passes the
// freshness check again: the store keeps it by both clocks.
func TestMemoryReplayStoreKeepsPairsFreshOnTheWallClock(t *testing.T) {
	const tolerance = 5 * time.Minute
	ttl := 2*tolerance + time.Second
	signedAt := testNow
	d := Delivery{ID: sha256.Sum256([]byte("pair")), BodyHash: sha256.Sum256([]byte("body")), Token: [16]byte{1},
		TTL: ttl, Lease: 10 * time.Second, FreshUntil: signedAt.Add(tolerance)}
	other := d
	other.BodyHash, other.Token = sha256.Sum256([]byte("another body")), [16]byte{2}
	store, err := NewMemoryReplayStore(10)
	require.NoError(t, err)
	wall0 := signedAt.UnixNano()

	state, err := store.begin(&d, 0, wall0)
	require.NoError(t, err)
	require.Equal(t, ReplayNew, state)
	require.NoError(t, store.finish(&d, true, 0, wall0))

	// A minute past the TTL on the monotonic clock, the wall clock has
	// been stepped back by the TTL: the timestamp is a minute old again.
	mono, wall := int64(ttl+time.Minute), wall0+int64(time.Minute)
	state, err = store.begin(&other, mono, wall)
	require.NoError(t, err)
	assert.Equal(t, ReplayConflict, state, "the pair is still bound to its body")
	state, err = store.begin(&d, mono, wall)
	require.NoError(t, err)
	assert.Equal(t, ReplayHandled, state, "and handled")
	assert.Equal(t, 1, store.Len(), "the sweep kept it")

	// Once the wall clock, too, has left the freshness window, it goes.
	mono, wall = mono+int64(4*time.Minute)+1, wall0+int64(tolerance)+1
	state, err = store.begin(&other, mono, wall)
	require.NoError(t, err)
	assert.Equal(t, ReplayNew, state)
}

// A full store looks at the entries that expired within the sweep's
// current tick before it refuses: it refuses only when every entry is
// live.
func TestFullMemoryReplayStoreLooksAtWhatJustExpired(t *testing.T) {
	store, err := NewMemoryReplayStore(2)
	require.NoError(t, err)
	ctx := context.Background()
	begin := func(id string, now time.Time, ttl time.Duration) (ReplayState, error) {
		return store.Begin(ctx, Delivery{ID: sha256.Sum256([]byte(id)), Now: now, TTL: ttl, Lease: time.Second})
	}
	for _, id := range []string{"a", "b"} {
		state, err := begin(id, testNow, time.Millisecond)
		require.NoError(t, err)
		require.Equal(t, ReplayNew, state)
	}
	now := testNow.Add(time.Millisecond)
	for _, id := range []string{"c", "d"} {
		state, err := begin(id, now, time.Minute)
		require.NoError(t, err, "a and b have expired")
		assert.Equal(t, ReplayNew, state)
	}
	_, err = begin("e", now, time.Minute)
	require.ErrorIs(t, err, ErrReplayStoreFull, "c and d are live")
	assert.Equal(t, 2, store.Len())
}

// Entries that live longer than a turn of the sweep's wheel (a tolerance
// of an hour) survive each turn, and a store left alone for longer than a
// turn is swept in one go.
func TestMemoryReplayStoreSweepsEntriesLongerThanAWheelTurn(t *testing.T) {
	store, err := NewMemoryReplayStore(1000)
	require.NoError(t, err)
	ctx := context.Background()
	long := Delivery{ID: sha256.Sum256([]byte("long")), Now: testNow, TTL: 2*time.Hour + time.Second, Lease: time.Second}
	_, err = store.Begin(ctx, long)
	require.NoError(t, err)
	require.NoError(t, store.Finish(ctx, long, true))
	for i := 0; i < 100; i++ {
		_, err := store.Begin(ctx, Delivery{ID: sha256.Sum256([]byte{byte(i)}), Now: testNow, TTL: 10 * time.Minute})
		require.NoError(t, err)
	}
	for _, elapsed := range []time.Duration{time.Hour, 90 * time.Minute, 2 * time.Hour} {
		long.Now = testNow.Add(elapsed)
		state, err := store.Begin(ctx, long)
		require.NoError(t, err)
		assert.Equal(t, ReplayHandled, state, "after %v", elapsed)
		assert.Equal(t, 1, store.Len(), "after %v only the long entry is left", elapsed)
	}
	long.Now = testNow.Add(long.TTL)
	state, err := store.Begin(ctx, long)
	require.NoError(t, err)
	assert.Equal(t, ReplayNew, state, "at its TTL")
}

// An injected clock that steps back files new entries behind the sweep:
// they are still found, and swept once the clock has run on.
func TestMemoryReplayStoreFollowsAClockThatStepsBack(t *testing.T) {
	store, err := NewMemoryReplayStore(10)
	require.NoError(t, err)
	ctx := context.Background()
	var token [16]byte
	begin := func(id string, at time.Duration, ttl time.Duration) ReplayState {
		t.Helper()
		token[0]++
		state, err := store.Begin(ctx, Delivery{ID: sha256.Sum256([]byte(id)), Token: token, Now: testNow.Add(at), TTL: ttl, Lease: time.Minute})
		require.NoError(t, err)
		return state
	}
	begin("first", 0, time.Second)
	begin("probe", 10*time.Second, time.Nanosecond) // the sweep is at 10 s
	assert.Equal(t, ReplayNew, begin("stepped back", time.Second, time.Second))
	assert.Equal(t, ReplayInFlight, begin("stepped back", 1500*time.Millisecond, time.Second), "found behind the sweep")
	assert.Equal(t, 2, store.Len(), "the first entry was swept at 10 s")
	begin("probe", 11*time.Second, time.Nanosecond)
	assert.Equal(t, 1, store.Len(), "and the one made after the step once the clock ran on")
}

// Random calls answer as a plain model of the contract does: the index,
// the sweep and the growth of the store lose nothing and keep nothing too
// long.
func TestMemoryReplayStoreAgreesWithAModel(t *testing.T) {
	type entry struct {
		body                    byte
		token                   uint64
		state                   ReplayState
		expires, fresh, leaseTo time.Duration
	}
	steps := 100_000
	if testing.Short() {
		steps = 10_000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	store, err := NewMemoryReplayStore(1 << 13)
	require.NoError(t, err)
	ctx := context.Background()
	model := map[uint16]*entry{}
	var now time.Duration
	var tokens uint64
	live := func(e *entry) bool { return e != nil && (now < e.expires || now <= e.fresh) }
	for step := 0; step < steps; step++ {
		now += time.Duration(rng.Int64N(int64(40 * time.Millisecond)))
		id := uint16(rng.IntN(3000))
		d := Delivery{ID: sha256.Sum256([]byte{byte(id), byte(id >> 8)}), Now: testNow.Add(now),
			TTL: []time.Duration{time.Second, 10 * time.Second, time.Minute}[rng.IntN(3)], Lease: []time.Duration{100 * time.Millisecond, time.Second}[rng.IntN(2)]}
		body := byte(rng.IntN(2))
		d.BodyHash[0] = body
		e := model[id]
		token := tokens + 1
		if e != nil && rng.IntN(10) < 6 {
			token = e.token
		} else {
			tokens++
		}
		binary.BigEndian.PutUint64(d.Token[:], token)
		fresh := time.Duration(math.MinInt64)
		if rng.IntN(5) == 0 {
			fresh = now + time.Duration(rng.Int64N(int64(2*d.TTL)))
			d.FreshUntil = testNow.Add(fresh)
		}
		holds := live(e) && e.state == ReplayInFlight && e.token == token && e.body == body
		switch op := rng.IntN(4); op {
		case 0, 1:
			want := ReplayNew
			switch {
			case !live(e):
				model[id] = &entry{body: body, token: token, state: ReplayInFlight, expires: now + d.TTL, fresh: fresh, leaseTo: now + d.Lease}
			case e.body != body:
				want = ReplayConflict
			case e.state == ReplayHandled:
				want = ReplayHandled
			case e.state == ReplayInFlight && e.token != token && now < e.leaseTo:
				want = ReplayInFlight
			default:
				e.state, e.token, e.leaseTo = ReplayInFlight, token, now+d.Lease
			}
			got, err := store.Begin(ctx, d)
			require.NoError(t, err, "step %d", step)
			require.Equal(t, want.String(), got.String(), "step %d: Begin", step)
		case 2:
			err := store.Renew(ctx, d)
			if holds {
				require.NoError(t, err, "step %d: Renew", step)
				e.leaseTo = now + d.Lease
			} else {
				require.ErrorIs(t, err, ErrClaimLost, "step %d: Renew", step)
			}
		case 3:
			handled := rng.IntN(2) == 0
			err := store.Finish(ctx, d, handled)
			if holds {
				require.NoError(t, err, "step %d: Finish", step)
				e.state = ReplayNew
				if handled {
					e.state = ReplayHandled
				}
			} else {
				require.ErrorIs(t, err, ErrClaimLost, "step %d: Finish", step)
			}
		}
		if step%1000 == 0 {
			n := 0
			for _, e := range model {
				if live(e) {
					n++
				}
			}
			require.GreaterOrEqual(t, store.Len(), n, "step %d: the store holds every live entry", step)
		}
	}
}

// At its bound, with every entry live, the store allocates nothing: Begin
// and Finish reuse the room of the entries they sweep.
func TestMemoryReplayStoreAllocatesNothingOnceFull(t *testing.T) {
	store, err := NewMemoryReplayStore(1000)
	require.NoError(t, err)
	ctx := context.Background()
	d := Delivery{TTL: time.Minute, Lease: 10 * time.Second, FreshUntil: testNow}
	i := 0
	step := func() {
		binary.LittleEndian.PutUint64(d.ID[:], uint64(i))
		binary.LittleEndian.PutUint64(d.Token[:], uint64(i))
		d.Now = testNow.Add(time.Duration(i) * d.TTL / 1000)
		if s, err := store.Begin(ctx, d); err != nil || s != ReplayNew {
			t.Fatal(s, err)
		}
		if err := store.Renew(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := store.Finish(ctx, d, true); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for i < 2000 {
		step()
	}
	assert.Zero(t, testing.AllocsPerRun(1000, step))
}

// The garbage collector never scans the store's entries: they hold no
// pointer.
func TestReplayEntryHoldsNoPointer(t *testing.T) {
	var check func(reflect.Type) bool
	check = func(typ reflect.Type) bool {
		switch typ.Kind() {
		case reflect.Array:
			return check(typ.Elem())
		case reflect.Struct:
			for i := 0; i < typ.NumField(); i++ {
				if !check(typ.Field(i).Type) {
					return false
				}
			}
			return true
		case reflect.Bool, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return true
		}
		return false
	}
	assert.True(t, check(reflect.TypeOf(replayEntry{})))
	assert.Equal(t, uintptr(112), reflect.TypeOf(replayEntry{}).Size(), "bytes an entry")
}

func TestKeysRotatedMidStream(t *testing.T) {
	ring, err := signer.NewKeyring(productionKey)
	require.NoError(t, err)
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Keyring: ring}).Handler(next)
	newKey := signer.Key{ID: "production-2027", PartnerID: "1622", APIKey: "production-api-key-0002", Environment: signer.Production}

	assert.Equal(t, 200, serve(h, post(signedBody(t, productionKey, 0), "")).Code)
	assert.Equal(t, 401, serve(h, post(signedBody(t, newKey, 1*time.Second), "")).Code, "the new key is not known yet")

	require.NoError(t, ring.Replace(productionKey, newKey)) // step 1: add the new key
	assert.Equal(t, 200, serve(h, post(signedBody(t, newKey, 2*time.Second), "")).Code)
	assert.Equal(t, 200, serve(h, post(signedBody(t, productionKey, 3*time.Second), "")).Code, "old jobs' callbacks still verify")

	old := productionKey
	old.NotAfter = testNow // step 2: retire the old key
	require.NoError(t, ring.Replace(old, newKey))
	assert.Equal(t, 401, serve(h, post(signedBody(t, productionKey, 4*time.Second), "")).Code)
	assert.Equal(t, 200, serve(h, post(signedBody(t, newKey, 5*time.Second), "")).Code)
	assert.Equal(t, []string{"production-2026", "production-2027", "production-2026", "production-2027"}, keyIDs(next.seen))
}

func keyIDs(cbs []Callback) []string {
	ids := make([]string, len(cbs))
	for i, cb := range cbs {
		ids[i] = cb.KeyID
	}
	return ids
}
