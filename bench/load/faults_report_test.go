//go:build unix

package load

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// leaseSlack is how much earlier than a lease after the killed attempt
// began the survivor may forward it again: the proxies round a lease's end
// up to the millisecond and their clock to the millisecond below.
const leaseSlack = 5 * time.Millisecond

// The phases of the run, by the start of an attempt.
type faultPhase int

const (
	beforeKill faultPhase = iota
	afterKill             // until Redis is stopped
	redisStopped
	afterStall
	faultPhases
)

var faultPhaseNames = [faultPhases]string{"before the kill", "after the kill", "Redis stopped", "after SIGCONT"}

func (ft faultTimes) phase(at time.Time) faultPhase {
	switch {
	case at.Before(ft.killed):
		return beforeKill
	case at.Before(ft.stopped):
		return afterKill
	case at.Before(ft.resumed):
		return redisStopped
	}
	return afterStall
}

// faultVerdict is what the run's records say.
type faultVerdict struct {
	genuine     int
	completions int      // of genuine callbacks, all told
	missing     []string // genuine callbacks the upstream never completed
	undelivered []string // genuine callbacks never answered 2xx
	intruders   []string // completions no genuine attempt explains
	unsigned    int      // completions without the proxy's key id
	duplicates  []string // handled twice, in the killed instance's window
	unexplained []string // handled more than once otherwise, and why not allowed
	unexpected  []string // answers the design does not give
	stalled     int      // genuine attempts begun while Redis was stopped

	// Delivered callbacks that Redis does not remember as handled, by
	// state: their Finish never reached it, so an exact replay is handled
	// again once the claim's lease has lapsed. replayedAgain counts the
	// exact replays of the run that were.
	unmarked      map[string]int
	unmarkedJobs  []string
	replayedAgain int

	attemptsUsed map[string]int
	byPhase      [faultPhases]map[string]int // genuine attempts' outcomes
	hostile      [faultScenarios]map[string]int
	attemptTimes []time.Duration // of the genuine attempts answered
	deliveries   []time.Duration // from a genuine callback's first attempt to its 2xx

	// cut are the attempts at instance a that the kill broke off.
	cut struct {
		total        int
		forwarded    int // the upstream had them: then either
		handledAgain int // forwarded again by b after the lease, or
		acknowledged int // acknowledged by b as already handled (a's Finish had landed)
	}
}

// judge sets what the clients saw beside what the upstream completed and
// what Redis remembers of each delivery (states, by job).
func judge(sent []*faultClient, completions []completion, ft faultTimes, states map[string]byte) *faultVerdict {
	v := &faultVerdict{attemptsUsed: map[string]int{}, unmarked: map[string]int{}}
	for p := range v.byPhase {
		v.byPhase[p] = map[string]int{}
	}
	for s := range v.hostile {
		v.hostile[s] = map[string]int{}
	}
	type attemptRef struct {
		cb *genuineCallback
		n  int
	}
	attempts := map[string]attemptRef{}
	jobs := map[string]*genuineCallback{}
	for _, c := range sent {
		for _, cb := range c.genuine {
			jobs[cb.job] = cb
			for n := range cb.attempts {
				attempts[attemptID(cb.job, n)] = attemptRef{cb, n}
			}
		}
	}
	byJob := map[string][]completion{}
	for _, c := range completions {
		ref, ok := attempts[c.attempt]
		if !ok || ref.cb.job != c.job || c.via != instanceNames[ref.cb.attempts[ref.n].instance] {
			why := fmt.Sprintf("%s (job %s) forwarded by %s at %+v from the kill", c.attempt, c.job, c.via,
				c.arrived.Sub(ft.killed).Round(time.Millisecond))
			if cb, ok := jobs[c.job]; ok {
				why += "; the genuine callback's attempts: " + attemptList(cb, ft)
			}
			if strings.HasPrefix(c.attempt, fmt.Sprintf("hostile-%d-", faultReplay)) {
				v.replayedAgain++
			}
			v.intruders = append(v.intruders, why)
			continue
		}
		if c.keyID != faultKey.ID {
			v.unsigned++
		}
		byJob[c.job] = append(byJob[c.job], c)
	}

	for _, client := range sent {
		for _, h := range client.hostile {
			v.hostile[h.scenario][attemptClass(h.attempt)]++
			if !hostileAnswerExpected(h, ft) {
				v.unexpected = append(v.unexpected, fmt.Sprintf("%v to %s at %v: %s", h.scenario, instanceNames[h.instance],
					h.start.Sub(ft.killed).Round(time.Millisecond), describe(h.attempt)))
			}
		}
		for _, cb := range client.genuine {
			v.judgeGenuine(cb, byJob[cb.job], ft)
			if state := states[cb.job]; cb.delivered() && state != 'h' {
				v.unmarked[stateName(state)]++
				v.unmarkedJobs = append(v.unmarkedJobs, fmt.Sprintf("%s (%s): %s", cb.job, stateName(state), attemptList(cb, ft)))
			}
		}
	}
	return v
}

// judgeGenuine sets one genuine callback's attempts beside its completions.
func (v *faultVerdict) judgeGenuine(cb *genuineCallback, done []completion, ft faultTimes) {
	v.genuine++
	v.completions += len(done)
	if cb.delivered() {
		v.attemptsUsed[fmt.Sprint(len(cb.attempts))]++
		v.deliveries = append(v.deliveries, cb.attempts[len(cb.attempts)-1].end.Sub(cb.attempts[0].start))
	} else {
		v.attemptsUsed["never answered 2xx"]++
		v.undelivered = append(v.undelivered, fmt.Sprintf("%s: %s", cb.job, attemptList(cb, ft)))
	}
	completed := map[int]bool{}
	for _, c := range done {
		completed[attemptNumber(c)] = true
	}
	for n, a := range cb.attempts {
		phase := ft.phase(a.start)
		v.byPhase[phase][attemptClass(a)]++
		if phase == redisStopped {
			v.stalled++
		}
		if a.err == nil {
			v.attemptTimes = append(v.attemptTimes, a.end.Sub(a.start))
		}
		if !genuineAnswerExpected(a, ft) {
			v.unexpected = append(v.unexpected, fmt.Sprintf("%s#%d: %s", cb.job, n, describe(a)))
		}
		if a.instance == instanceA && a.err != nil && a.start.Before(ft.killed) && !a.end.Before(ft.killed) {
			v.cut.total++
			if completed[n] {
				v.cut.forwarded++
				if len(done) > 1 {
					v.cut.handledAgain++
				} else {
					v.cut.acknowledged++
				}
			}
		}
	}

	switch {
	case len(done) == 0:
		v.missing = append(v.missing, cb.job)
	case len(done) > 1:
		if why := duplicateNotAllowed(cb, done, ft); why != "" {
			v.unexplained = append(v.unexplained, fmt.Sprintf("%s: %s; attempts %s", cb.job, why, attemptList(cb, ft)))
		} else {
			v.duplicates = append(v.duplicates, cb.job)
		}
	}
}

// duplicateNotAllowed says why a callback the upstream completed more than
// once falls outside the one window the design allows, or "" if it falls
// inside: instance a forwarded it (so before it died), the attempt that
// brought it was in flight at the kill and got no answer, and instance b
// forwarded a later attempt a lease or more after that one began, once
// the dead claim had lapsed. (The upstream may begin a request a few
// milliseconds after a sent it, so the completion's own arrival is not
// held to the instant of the kill.)
func duplicateNotAllowed(cb *genuineCallback, done []completion, ft faultTimes) string {
	if len(done) != 2 {
		return fmt.Sprintf("completed %d times", len(done))
	}
	slices.SortFunc(done, func(x, y completion) int { return x.arrived.Compare(y.arrived) })
	first, second := done[0], done[1]
	n1, n2 := attemptNumber(first), attemptNumber(second)
	killed := cb.attempts[n1]
	switch {
	case first.via != instanceNames[instanceA]:
		return fmt.Sprintf("first forwarded by %s at %+v from the kill", first.via, first.arrived.Sub(ft.killed).Round(time.Millisecond))
	case killed.err == nil || killed.start.After(ft.killed) || killed.end.Before(ft.killed):
		return "the first forwarding's attempt was answered, or failed before the kill: " + describe(killed)
	case second.via != instanceNames[instanceB] || n2 <= n1:
		return fmt.Sprintf("second forwarded by %s for attempt %d", second.via, n2)
	case second.arrived.Sub(killed.start) < faultLease-leaseSlack:
		return fmt.Sprintf("forwarded again %v after the killed attempt began, within its lease", second.arrived.Sub(killed.start).Round(time.Millisecond))
	}
	return ""
}

// attemptNumber is the index of the attempt that brought c; judge has
// matched its header with a genuine attempt.
func attemptNumber(c completion) int {
	_, n, _ := strings.Cut(c.attempt, "#")
	i, _ := strconv.Atoi(n)
	return i
}

// genuineAnswerExpected reports whether a is an answer the design gives a
// genuine callback: 200; 409 while the claim of a killed attempt holds, or
// one Redis made late after the stop; 503 from the stop on, while Redis
// cannot answer; no answer only from instance a, broken off by its kill or
// refused after it. Anything else (a 401 would be a genuine callback lost)
// is not.
func genuineAnswerExpected(a attempt, ft faultTimes) bool {
	if a.err != nil {
		return a.instance == instanceA && !a.end.Before(ft.killed)
	}
	switch a.status {
	case http.StatusOK:
		return true
	case http.StatusConflict:
		return !a.start.Before(ft.killed)
	case http.StatusServiceUnavailable:
		return !a.end.Before(ft.stopped)
	}
	return false
}

// hostileAnswerExpected reports whether h got an answer the design gives:
// 401 for a forged, stale or tampered callback; 200 (acknowledged, not
// forwarded) for an exact replay, or 409 from the stop on, while the
// claim of its delivery holds until the handled mark lands; 503 from the
// stop on for those that reach the replay store; no answer from instance
// a broken off by its kill.
func hostileAnswerExpected(h hostileAttempt, ft faultTimes) bool {
	if h.err != nil {
		return h.instance == instanceA && !h.end.Before(ft.killed)
	}
	afterStop := !h.end.Before(ft.stopped)
	switch h.scenario {
	case faultForged, faultStale:
		return h.status == http.StatusUnauthorized
	case faultTampered:
		return h.status == http.StatusUnauthorized || h.status == http.StatusServiceUnavailable && afterStop
	case faultReplay:
		return h.status == http.StatusOK || (h.status == http.StatusConflict || h.status == http.StatusServiceUnavailable) && afterStop
	}
	return false
}

func describe(a attempt) string {
	if a.err != nil {
		return fmt.Sprintf("%s, no answer after %v: %v", instanceNames[a.instance], a.end.Sub(a.start).Round(time.Millisecond), a.err)
	}
	return fmt.Sprintf("%s answered %d after %v", instanceNames[a.instance], a.status, a.end.Sub(a.start).Round(time.Millisecond))
}

// attemptList is a callback's attempts, each with its start from the kill.
func attemptList(cb *genuineCallback, ft faultTimes) string {
	parts := make([]string, len(cb.attempts))
	for i, a := range cb.attempts {
		parts[i] = fmt.Sprintf("[%+v: %s]", a.start.Sub(ft.killed).Round(time.Millisecond), describe(a))
	}
	return strings.Join(parts, " ")
}

// summary is the closing report of the run.
func (v *faultVerdict) summary(traffic, drained time.Duration, ft faultTimes, aErrors, bErrors map[string]int) string {
	var b strings.Builder
	requests := 0
	for _, m := range v.byPhase {
		for _, n := range m {
			requests += n
		}
	}
	for _, m := range v.hostile {
		for _, n := range m {
			requests += n
		}
	}
	start := ft.killed.Add(-faultKillAt)
	fmt.Fprintf(&b, "faults: %d requests in %.1f s from %d clients (retries drained at %.1f s); two proxies, lease %v, Redis timeout %v\n",
		requests, traffic.Seconds(), faultClients, drained.Seconds(), faultLease, faultRedisTimeout)
	fmt.Fprintf(&b, "instance a killed (SIGKILL) at %.2f s; Redis stopped (SIGSTOP) from %.2f s to %.2f s\n",
		ft.killed.Sub(start).Seconds(), ft.stopped.Sub(start).Seconds(), ft.resumed.Sub(start).Seconds())
	fmt.Fprintf(&b, "genuine callbacks: %d sent, %d answered 2xx, %d completed by the upstream (%d completions), %d never completed\n",
		v.genuine, v.genuine-len(v.undelivered), v.genuine-len(v.missing), v.completions, len(v.missing))
	fmt.Fprintf(&b, "handled twice: %d, each forwarded by a before the kill and again by b after the lease; outside that window: %d\n",
		len(v.duplicates), len(v.unexplained))
	fmt.Fprintf(&b, "delivered callbacks Redis does not remember as handled: %d (%s); exact replays forwarded again: %d\n",
		total(v.unmarked), counts(v.unmarked), v.replayedAgain)
	fmt.Fprintf(&b, "attempts at a cut by the kill: %d; of them the upstream had %d: %d handled again by b, %d acknowledged by b (a's Finish had landed); %d never reached it\n",
		v.cut.total, v.cut.forwarded, v.cut.handledAgain, v.cut.acknowledged, v.cut.total-v.cut.forwarded)
	fmt.Fprintf(&b, "attempts needed per genuine callback: %s\n", counts(v.attemptsUsed))
	fmt.Fprintf(&b, "genuine attempts answered: p50 %v, p99 %v, max %v; deliveries (first attempt to 2xx): p50 %v, p99 %v, max %v\n",
		percentile(v.attemptTimes, 50), percentile(v.attemptTimes, 99), percentile(v.attemptTimes, 100),
		percentile(v.deliveries, 50), percentile(v.deliveries, 99), percentile(v.deliveries, 100))
	fmt.Fprintf(&b, "%-28s %9s  %s\n", "requests", "count", "answers (status or client error)")
	for p, m := range v.byPhase {
		fmt.Fprintf(&b, "%-28s %9d  %s\n", "genuine, "+faultPhaseNames[p], total(m), counts(m))
	}
	for s := faultForged; s < faultScenarios; s++ {
		fmt.Fprintf(&b, "%-28s %9d  %s\n", s.String(), total(v.hostile[s]), counts(v.hostile[s]))
	}
	fmt.Fprintf(&b, "records at Error level: a %s; b %s\n", counts(aErrors), counts(bErrors))
	return b.String()
}

func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// stateName names the state of a delivery in Redis.
func stateName(state byte) string {
	switch state {
	case 'f':
		return "claimed, never finished"
	case 'h':
		return "handled"
	case 'r':
		return "released"
	case 0:
		return "absent"
	}
	return fmt.Sprintf("state %q", state)
}
