package bench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// strangerKey has the receiver's partner id and another API key.
var strangerKey = signer.Key{ID: "stranger", PartnerID: "1622", APIKey: "not-the-receivers-key", Environment: signer.Production}

// floorCallback returns a callback for job signed by key at timestamp.
func floorCallback(t *testing.T, key signer.Key, job, timestamp string) []byte {
	body, err := signertest.SignCallbackWithTimestamp(key, callbacks.Body(job, 2<<10), timestamp)
	require.NoError(t, err)
	return body
}

// floorPost sends body to h as Smile ID would, and returns the answer and
// the body the handler read, if it was called.
type floorPost struct {
	body        []byte
	peer        string
	method      string
	contentType string
	length      int64 // 0: the body's; -1: unknown (chunked)
}

func (p floorPost) send(h http.Handler, next *recordingNext) (int, []byte) {
	method := p.method
	if method == "" {
		method = http.MethodPost
	}
	r := httptest.NewRequest(method, callbackURL, bytes.NewReader(p.body))
	r.RemoteAddr = callbackPeer
	if p.peer != "" {
		r.RemoteAddr = p.peer
	}
	r.Header.Set("Content-Type", "application/json")
	if p.contentType != "" {
		r.Header.Set("Content-Type", p.contentType)
	}
	if p.length != 0 {
		r.ContentLength = p.length
	}
	next.got = nil
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, next.got
}

// recordingNext is a next handler that keeps the body it read and answers
// with status (0: 200).
type recordingNext struct {
	got    []byte
	status int
	during func() // called while the delivery is in flight
}

func (n *recordingNext) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.got, _ = io.ReadAll(r.Body)
	if n.got == nil {
		n.got = []byte{}
	}
	if n.during != nil {
		n.during()
	}
	if n.status != 0 {
		w.WriteHeader(n.status)
	}
}

// TestFloorRefuses shows that the floor is a guard and not a stub: it
// admits a genuine new callback once, hands on its exact bytes, and
// refuses what the Guard refuses, with the Guard's statuses.
func TestFloorRefuses(t *testing.T) {
	now := callbackNow
	ts := signer.FormatTimestamp(now)
	genuine := floorCallback(t, productionKey, "job-1", ts)
	huge := bytes.Repeat([]byte(" "), middleware.DefaultMaxBodyBytes+1)
	withMember := func(member string) []byte {
		return []byte(strings.Replace(string(genuine), `{`, `{`+member+`,`, 1))
	}
	renamed := func(from, to string) []byte { return bytes.Replace(genuine, []byte(from), []byte(to), 1) }
	signature := string(memberContents(t, genuine, `"signature":"`, 44))
	// The same 32 bytes, with the last character's unused bits set: a
	// base64 decoder that ignores them would take it.
	lastBits := signature[:42] + string(signature[42]+1) + "="

	for _, tc := range []struct {
		name string
		post floorPost
		want int
	}{
		{"a peer outside Smile ID's production addresses is refused", floorPost{body: genuine, peer: "6.6.6.6:443"}, 403},
		{"Smile ID's sandbox address is not a production one", floorPost{body: genuine, peer: "35.166.227.53:443"}, 403},
		{"an unparseable peer is refused", floorPost{body: genuine, peer: "52.213.46.74"}, 403},
		{"a method other than POST is refused", floorPost{body: genuine, method: http.MethodPut}, 405},
		{"a body that is not JSON by its type is refused", floorPost{body: genuine, contentType: "text/plain"}, 415},
		{"a declared length over 2 MiB is refused", floorPost{body: genuine, length: middleware.DefaultMaxBodyBytes + 1}, 413},
		{"an actual body over 2 MiB is refused", floorPost{body: huge, length: -1}, 413},
		{"a body shorter than declared is refused", floorPost{body: genuine, length: int64(len(genuine)) + 1}, 400},
		{"trailing bytes after the object are refused", floorPost{body: append(bytes.Clone(genuine), " x"...)}, 400},
		{"a JSON array is refused", floorPost{body: []byte(`[` + string(genuine) + `]`)}, 400},
		{"a second signature is refused", floorPost{body: withMember(`"signature":"x"`)}, 400},
		{"a second timestamp, escaped, is refused", floorPost{body: withMember(`"time\u0073tamp":"x"`)}, 400},
		{"a member named Signature is refused", floorPost{body: withMember(`"Signature":"x"`)}, 400},
		{"a member folding to timestamp is refused", floorPost{body: withMember(`"\u017Fignature":"x"`)}, 400},
		{"a missing timestamp is refused", floorPost{body: renamed(`"timestamp"`, `"timestampx"`)}, 400},
		{"a signature that is not a string is refused", floorPost{body: renamed(`"signature":"`+signature+`"`, `"signature":1`)}, 400},
		{"an unparseable timestamp is refused", floorPost{body: floorCallback(t, productionKey, "job-1", "yesterday")}, 400},
		{"a timestamp 6 minutes old is refused", floorPost{body: floorCallback(t, productionKey, "job-1", signer.FormatTimestamp(now.Add(-6*time.Minute)))}, 401},
		{"a timestamp 6 minutes ahead is refused", floorPost{body: floorCallback(t, productionKey, "job-1", signer.FormatTimestamp(now.Add(6*time.Minute)))}, 401},
		{"a signature by another key is refused", floorPost{body: floorCallback(t, strangerKey, "job-1", ts)}, 401},
		{"a signature whose base64 is not canonical is refused", floorPost{body: renamed(signature, lastBits)}, 401},
		{"a genuine callback is admitted", floorPost{body: genuine}, 200},
		{"an escaped signature name is understood", floorPost{body: renamed(`"signature"`, `"sig\u006eature"`)}, 200},
		{"a timestamp of another SDK's style is read", floorPost{body: floorCallback(t, productionKey, "job-3", "2026-11-21T11:00:00.002+01:00")}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			floor := newFloor(productionKey, func() time.Time { return now })
			next := &recordingNext{}
			status, got := tc.post.send(floor.Handler(next), next)
			assert.Equal(t, tc.want, status)
			if tc.want == http.StatusOK {
				assert.Equal(t, tc.post.body, got, "the handler read the bytes that arrived")
			} else {
				assert.Nil(t, got, "the handler was called")
			}
		})
	}
}

// TestFloorRemembers shows the floor's replay defence: one delivery
// reaches the handler once, whatever comes after it.
func TestFloorRemembers(t *testing.T) {
	now := callbackNow
	clock := func() time.Time { return now }
	ts := signer.FormatTimestamp(now)
	genuine := floorCallback(t, productionKey, "job-1", ts)

	t.Run("an exact retry of a handled delivery is acknowledged, not handed on", func(t *testing.T) {
		next := &recordingNext{}
		h := newFloor(productionKey, clock).Handler(next)
		status, got := floorPost{body: genuine}.send(h, next)
		require.Equal(t, 200, status)
		require.NotNil(t, got)
		status, got = floorPost{body: genuine}.send(h, next)
		assert.Equal(t, 200, status)
		assert.Nil(t, got, "handed on twice")
	})
	t.Run("a handled pair on another body is refused", func(t *testing.T) {
		next := &recordingNext{}
		h := newFloor(productionKey, clock).Handler(next)
		status, _ := floorPost{body: genuine}.send(h, next)
		require.Equal(t, 200, status)
		tampered := floorCallback(t, productionKey, "job-2", ts) // same key, same timestamp: same signature
		status, got := floorPost{body: tampered}.send(h, next)
		assert.Equal(t, 401, status)
		assert.Nil(t, got)
	})
	t.Run("the same delivery while the first is in flight is refused with 409", func(t *testing.T) {
		next := &recordingNext{}
		h := newFloor(productionKey, clock).Handler(next)
		inner := &recordingNext{}
		var during int
		next.during = func() { during, _ = floorPost{body: genuine}.send(h, inner) }
		status, _ := floorPost{body: genuine}.send(h, next)
		assert.Equal(t, 200, status)
		assert.Equal(t, 409, during)
	})
	t.Run("a delivery the handler fails is processed again on retry", func(t *testing.T) {
		next := &recordingNext{status: http.StatusInternalServerError}
		h := newFloor(productionKey, clock).Handler(next)
		status, _ := floorPost{body: genuine}.send(h, next)
		require.Equal(t, 500, status)
		next.status = 0
		status, got := floorPost{body: genuine}.send(h, next)
		assert.Equal(t, 200, status)
		assert.Equal(t, genuine, got, "the retry was not handed on")
	})
	t.Run("a delivery whose handler panics is processed again on retry", func(t *testing.T) {
		next := &recordingNext{during: func() { panic("handler") }}
		h := newFloor(productionKey, clock).Handler(next)
		assert.Panics(t, func() { floorPost{body: genuine}.send(h, next) })
		next.during = nil
		status, got := floorPost{body: genuine}.send(h, next)
		assert.Equal(t, 200, status)
		assert.Equal(t, genuine, got)
	})
	t.Run("a full store refuses new deliveries with 503 until one expires", func(t *testing.T) {
		at := now
		floor := newFloor(productionKey, func() time.Time { return at })
		floor.replay = newFIFOReplay(2)
		next := &recordingNext{}
		h := floor.Handler(next)
		for i := range 3 {
			body := floorCallback(t, productionKey, fmt.Sprint("job-", i), signer.FormatTimestamp(at))
			status, _ := floorPost{body: body}.send(h, next)
			assert.Equal(t, []int{200, 200, 503}[i], status, "delivery %d", i)
			at = at.Add(time.Minute)
		}
		at = now.Add(2*middleware.DefaultTolerance + time.Second) // the first is forgotten
		body := floorCallback(t, productionKey, "job-3", signer.FormatTimestamp(at))
		status, _ := floorPost{body: body}.send(h, next)
		assert.Equal(t, 200, status)
	})
}

// TestFIFOReplay checks the queue's bookkeeping across expiry and the
// reuse of its front.
func TestFIFOReplay(t *testing.T) {
	s := newFIFOReplay(8)
	id := func(i int) *[32]byte { return &[32]byte{byte(i), byte(i >> 8)} }
	hash := &[32]byte{1}
	seqs := map[int]uint64{}
	const ttl = 10
	for i := range 100 {
		now := int64(i * 3) // four live at once
		seq, state := s.begin(id(i), hash, now, now+ttl)
		require.Equal(t, replayNew, state, "delivery %d", i)
		seqs[i] = seq
		if i%2 == 0 {
			s.finish(seq, id(i), true)
		}
		for j := max(0, i-3); j < i; j++ {
			_, state := s.begin(id(j), hash, now, now+ttl)
			want := replayHandled
			if j%2 == 1 {
				want = replayInFlight
			}
			require.Equal(t, want, state, "delivery %d at %d", j, i)
		}
		_, state = s.begin(id(max(0, i-1)), &[32]byte{2}, now, now+ttl)
		require.Equal(t, replayConflict, state, "another body at %d", i)
		if i >= 4 {
			_, remembered := s.seqOf[*id(i - 4)]
			require.False(t, remembered, "delivery %d not forgotten at %d", i-4, i)
			s.finish(seqs[i-4], id(i-4), true) // a forgotten claim: changes nothing
		}
		require.LessOrEqual(t, len(s.queue)-s.head, 4, "live deliveries at %d", i)
	}
	assert.LessOrEqual(t, cap(s.queue), 16, "the queue grew instead of reusing its front")
}
