package load

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/signer/signertest"
)

// tally is what one client saw. Each client keeps its own; they are merged
// once the clients are done.
type tally struct {
	sent       [scenarios]int
	statuses   [scenarios]map[int]int
	errors     [scenarios]map[string]int
	unexpected [scenarios]int
	// firstUnexpected is the first unexpected outcome of each scenario,
	// spelled out for the failure message.
	firstUnexpected [scenarios]string
	validJobs       []string        // the new genuine callbacks sent: each must be handled once
	latencies       []time.Duration // of the well-behaved requests
	slowCuts        []time.Duration // how long each slow body lasted until the server ended it
	// duplicatesUnhandled counts the in-flight duplicate pairs of which
	// neither request got a 200.
	duplicatesUnhandled int
}

func newTally() *tally {
	t := &tally{}
	for s := range t.statuses {
		t.statuses[s] = map[int]int{}
		t.errors[s] = map[string]int{}
	}
	return t
}

// record counts the outcome of one request of s.
func (t *tally) record(s scenario, o outcome) {
	t.sent[s]++
	if o.err != nil {
		t.errors[s][errorClass(o.err)]++
	} else {
		t.statuses[s][o.status]++
	}
	if !s.accepts(o) {
		t.unexpected[s]++
		if t.firstUnexpected[s] == "" {
			t.firstUnexpected[s] = fmt.Sprintf("status %d, error %v, after %v", o.status, o.err, o.latency)
		}
	}
	if s.wellBehaved() {
		t.latencies = append(t.latencies, o.latency)
	} else {
		t.slowCuts = append(t.slowCuts, o.latency)
	}
}

// accepts reports whether o is a right answer to a request of s. A
// well-behaved request must get one of its expected statuses. An oversized
// body whose sending outlasted the server's ReadTimeout (2 MiB from a
// client starved of CPU, as under the race detector) may instead get the
// 400 of a body that could not be read. A slow body must be ended by the
// server: one of its expected statuses, or the connection closed (end of
// stream or reset) before the client's own deadline, which the server's
// ReadTimeout comes well before.
func (s scenario) accepts(o outcome) bool {
	if o.err == nil {
		if s == oversized && o.status == http.StatusBadRequest && o.latency >= readTimeout {
			return true
		}
		return s.expects(o.status)
	}
	if s != slow {
		return false
	}
	return errors.Is(o.err, io.EOF) || errors.Is(o.err, io.ErrUnexpectedEOF) || errors.Is(o.err, syscall.ECONNRESET)
}

func (t *tally) merge(o *tally) {
	for s := range scenarios {
		t.sent[s] += o.sent[s]
		t.unexpected[s] += o.unexpected[s]
		if t.firstUnexpected[s] == "" {
			t.firstUnexpected[s] = o.firstUnexpected[s]
		}
		for k, v := range o.statuses[s] {
			t.statuses[s][k] += v
		}
		for k, v := range o.errors[s] {
			t.errors[s][k] += v
		}
	}
	t.validJobs = append(t.validJobs, o.validJobs...)
	t.latencies = append(t.latencies, o.latencies...)
	t.slowCuts = append(t.slowCuts, o.slowCuts...)
	t.duplicatesUnhandled += o.duplicatesUnhandled
}

// mixedClient sends the mix until the run ends.
func (tr *traffic) mixedClient(id int, until time.Time, t *tally) {
	rng := rand.New(rand.NewPCG(uint64(id), 1))
	total := mixTotal()
	for n := 0; time.Now().Before(until) && tr.requests.Add(1) <= maxRequests; n++ {
		tr.send(rng, pick(rng.IntN(total)), fmt.Sprintf("%d-%d", id, n), t)
	}
}

// send sends one request of s; tag makes its job id unique.
func (tr *traffic) send(rng *rand.Rand, s scenario, tag string, t *tally) {
	if (s == valid || s == duplicate) && tr.validLeft.Add(-1) < 0 {
		s = retry // the replay store is as full as this run lets it be
	}
	switch s {
	case valid:
		size := smallBody
		if rng.IntN(largeEvery) == 0 {
			size = largeBody
		}
		d := tr.genuine(rng, "valid-"+tag, size)
		t.validJobs = append(t.validJobs, "valid-"+tag)
		o := tr.post(tr.proxy, d.body, d.from, false)
		t.record(valid, o)
		if o.status == http.StatusOK && size == smallBody {
			tr.delivered.add(d)
		}
	case retry:
		d, ok := tr.delivered.pick(rng)
		if !ok {
			tr.send(rng, valid, tag, t)
			return
		}
		t.record(retry, tr.post(tr.proxy, d.body, d.from, false))
	case duplicate:
		d := tr.genuine(rng, "duplicate-"+tag, smallBody)
		t.validJobs = append(t.validJobs, "duplicate-"+tag)
		var pair [2]outcome
		var wg sync.WaitGroup
		for i := range pair {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pair[i] = tr.post(tr.proxy, d.body, d.from, false)
			}()
		}
		wg.Wait()
		t.record(duplicate, pair[0])
		t.record(duplicate, pair[1])
		if pair[0].status != http.StatusOK && pair[1].status != http.StatusOK {
			t.duplicatesUnhandled++
		}
	case forged:
		body := mustSign(signertest.SignCallback(strangerKey, callbacks.Body("forged-"+tag, smallBody), time.Now()))
		t.record(forged, tr.post(tr.proxy, body, "52.213.46.74", false))
	case stale:
		key, from := source(rng)
		body := mustSign(signertest.SignCallback(key, callbacks.Body("stale-"+tag, smallBody), time.Now().Add(-6*time.Minute)))
		t.record(stale, tr.post(tr.proxy, body, from, false))
	case tampered:
		d, ok := tr.delivered.pick(rng)
		if !ok {
			tr.send(rng, forged, tag, t)
			return
		}
		// The same key and timestamp make the same signature: the pair
		// of a handled callback, on a body of the attacker's choosing.
		body := mustSign(signertest.SignCallbackWithTimestamp(d.key, callbacks.Body("tampered-"+tag, smallBody), d.timestamp))
		t.record(tampered, tr.post(tr.proxy, body, d.from, false))
	case spoofed:
		d := tr.genuine(rng, "spoofed-"+tag, smallBody)
		t.record(spoofed, tr.post(tr.untrusted, d.body, d.from, false))
	case oversized:
		t.record(oversized, tr.post(tr.proxy, tr.oversized, "52.213.46.74", rng.IntN(2) == 0))
	}
}

// slowClient sends slow bodies until the run ends.
func (tr *traffic) slowClient(id int, until time.Time, t *tally) {
	rng := rand.New(rand.NewPCG(uint64(id), 2))
	for n := 0; time.Now().Before(until) && tr.requests.Add(1) <= maxRequests; n++ {
		d := tr.genuine(rng, fmt.Sprintf("slow-%d-%d", id, n), smallBody)
		t.record(slow, tr.sendSlow(d))
	}
}

// slowByteInterval is how often a slow body sends its next byte: a 2 KB
// body would take over three minutes.
const slowByteInterval = 100 * time.Millisecond

// sendSlow sends d from the trusted proxy on a connection of its own, the
// headers at once and the body a byte every slowByteInterval, never the
// last one, until the server answers or closes the connection.
func (tr *traffic) sendSlow(d delivery) outcome {
	start := time.Now()
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: proxyAddr.AsSlice()}, Timeout: 5 * time.Second}
	conn, err := dialer.Dial("tcp", tr.addr)
	if err != nil {
		return outcome{err: err}
	}
	defer conn.Close()
	// The client's own bound: a server that never cuts the body fails the
	// test ("timed out") instead of holding it.
	conn.SetDeadline(start.Add(readTimeout + 5*time.Second))
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nX-Forwarded-For: %s\r\n\r\n",
		receiver.CallbackPath, tr.addr, len(d.body), d.from)
	if _, err := io.WriteString(conn, head); err != nil {
		return outcome{err: err}
	}
	answered := make(chan outcome, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			answered <- outcome{err: err}
			return
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answered <- outcome{status: resp.StatusCode, err: err}
	}()
	tick := time.NewTicker(slowByteInterval)
	defer tick.Stop()
	for i := 0; i < len(d.body)-1; i++ {
		select {
		case o := <-answered:
			o.latency = time.Since(start)
			return o
		case <-tick.C:
		}
		if _, err := conn.Write(d.body[i : i+1]); err != nil {
			break // closed by the server: its answer, if any, is being read
		}
	}
	o := <-answered
	o.latency = time.Since(start)
	if errors.Is(o.err, os.ErrDeadlineExceeded) {
		o.err = fmt.Errorf("the server did not cut the body: %w", o.err)
	}
	return o
}
