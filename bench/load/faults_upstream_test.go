//go:build unix

package load

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// attemptHeader names one attempt at one delivery: the test's Smile ID
// sends it with every request, the proxy forwards it as it forwards every
// header but its own, and the upstream records it, so that each handling
// the upstream completed is traced to the attempt that brought it.
const attemptHeader = "Load-Attempt"

// The upstream's handling time: long enough that deliveries are in flight
// at the upstream when an instance is killed, short against a lease (no
// renewal is needed).
const (
	upstreamDelayMin = 20 * time.Millisecond
	upstreamDelayMax = 60 * time.Millisecond
)

// A completion is one handling the upstream completed.
type completion struct {
	attempt  string // the attempt header: job#n
	job      string // PartnerParams.job_id of the body
	via      string // the proxy that forwarded it: the first segment of the path (its --upstream)
	keyID    string // Smileguard-Key-Id, set by the proxy
	arrived  time.Time
	finished time.Time
}

// faultUpstream is the application behind the proxies. It handles every
// request it is given: after its handling time it records the completion,
// whether or not the proxy that sent it is still there to read the
// answer, as an application that commits its work does, and then answers
// 200.
type faultUpstream struct {
	server *httptest.Server
	mu     sync.Mutex
	done   []completion
}

func newFaultUpstream() *faultUpstream {
	u := &faultUpstream{}
	u.server = httptest.NewUnstartedServer(http.HandlerFunc(u.handle))
	u.server.Config.ReadHeaderTimeout = 5 * time.Second
	u.server.Start()
	return u
}

func (u *faultUpstream) handle(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the proxy went away before sending the whole body: nothing to handle
	}
	var cb struct {
		PartnerParams struct {
			JobID string `json:"job_id"`
		}
	}
	_ = json.Unmarshal(body, &cb)
	via, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	time.Sleep(upstreamDelayMin + rand.N(upstreamDelayMax-upstreamDelayMin))
	c := completion{attempt: r.Header.Get(attemptHeader), job: cb.PartnerParams.JobID, via: via,
		keyID: r.Header.Get("Smileguard-Key-Id"), arrived: arrived, finished: time.Now()}
	u.mu.Lock()
	u.done = append(u.done, c)
	u.mu.Unlock()
	io.WriteString(w, "handled")
}

// close stops the upstream once every handling has finished, and returns
// the completions.
func (u *faultUpstream) close() []completion {
	u.server.Close()
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.done
}
