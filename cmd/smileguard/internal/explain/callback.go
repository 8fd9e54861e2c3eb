package explain

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// A Callback is a captured callback and the configuration to judge it by.
type Callback struct {
	Body   []byte
	Header http.Header
	IP     netip.Addr // the client address; invalid: not given, no allowlist
	At     time.Time  // "now" for freshness and key windows
	AtFlag bool       // At was given (--at), not the clock

	Keys     []signer.Key
	Sets     []allowlist.Set           // the allowed sets, by environment
	Callback middleware.CallbackConfig // Tolerance, MaxBodyBytes, Formats
}

// ExplainCallback explains every check of the Guard on c, in order, and
// gives the Guard's verdict.
func ExplainCallback(c Callback) Report {
	var r Report
	tolerance := c.Callback.Tolerance
	if tolerance == 0 {
		tolerance = middleware.DefaultTolerance
	}
	maxBody := c.Callback.MaxBodyBytes
	if maxBody == 0 {
		maxBody = middleware.DefaultMaxBodyBytes
	}
	accepts := func(f middleware.CallbackFormat) bool {
		return len(c.Callback.Formats) == 0 || containsFormat(c.Callback.Formats, f)
	}

	// 1. The allowlist.
	var bound signer.Environment // "" : any
	sets := usableSets(c.Sets, c.Keys, c.At)
	if c.IP.IsValid() {
		ip := c.IP.Unmap().WithZone("")
		var in *allowlist.Set
		for i := range c.Sets {
			if contains(c.Sets[i], ip) {
				in = &c.Sets[i]
				break
			}
		}
		switch {
		case in == nil:
			r.Add("source", Fail, "%s is in none of the allowed sets (%s): refused with 403", ip, describeSets(c.Sets))
		case !containsSet(sets, in.Name):
			r.Add("source", Fail, "%s is in the %s set, but no %s key is usable at %s: the guard would refuse it (403)",
				ip, in.Name, in.Environment, stamp(c.At))
		default:
			bound = in.Environment
			r.Add("source", OK, "%s is in the %s set: only %s keys can sign its callbacks", ip, in.Name, in.Environment)
		}
	} else {
		r.Add("source", Info, "not checked (give --ip): keys of every environment are tried")
	}

	// 2. The request's shape.
	contentTypes := c.Header.Values("Content-Type")
	header := c.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	switch {
	case len(contentTypes) == 0:
		r.Add("content type", Info, "not given (-H 'Content-Type: application/json'): taken as application/json")
		header.Set("Content-Type", "application/json")
	case len(contentTypes) > 1:
		r.Add("content type", Fail, "%d Content-Type headers: refused with 415", len(contentTypes))
	default:
		if mt, _, err := mime.ParseMediaType(contentTypes[0]); err == nil && mt == "application/json" {
			r.Add("content type", OK, "%s", contentTypes[0])
		} else {
			r.Add("content type", Fail, "%q is not application/json: refused with 415", contentTypes[0])
		}
	}
	if int64(len(c.Body)) > maxBody {
		r.Add("body", Fail, "%d bytes, over the limit of %d (--max-body-bytes): refused with 413", len(c.Body), maxBody)
	} else {
		r.Add("body", OK, "%d bytes, within the limit of %d", len(c.Body), maxBody)
	}

	// 3. The format and where the signature is.
	sigs, stamps := header.Values(middleware.SignatureHeader), header.Values(middleware.TimestampHeader)
	format := middleware.BodySigned
	var signature, timestamp string
	found := true
	if len(sigs) > 0 || len(stamps) > 0 {
		format = middleware.HeaderSigned
		switch {
		case len(sigs) > 1 || len(stamps) > 1:
			r.Add("format", Fail, "header-signed (v3), but Response-Signature or Response-Timestamp is repeated: refused with 400")
			found = false
		case len(sigs) == 0 || len(stamps) == 0:
			r.Add("format", Fail, "header-signed (v3), but only one of Response-Signature and Response-Timestamp is present: refused with 400")
			found = false
		case !accepts(format):
			r.Add("format", Fail, "header-signed (v3), not in --formats: refused with 400")
			found = false
		default:
			r.Add("format", OK, "header-signed (v3): Response-Signature and Response-Timestamp headers; the body's members are not consulted")
			signature, timestamp = sigs[0], stamps[0]
		}
		if problem := objectProblem(c.Body); problem != "" {
			r.Add("body json", Fail, "%s: refused with 400", problem)
			found = false
		} else {
			r.Add("body json", OK, "one JSON object")
		}
	} else {
		if accepts(format) {
			r.Add("format", OK, "body-signed (v1/v2): no Response-Signature or Response-Timestamp header")
		} else {
			r.Add("format", Fail, "body-signed (v1/v2), not in --formats: refused with 400")
		}
		m := scanMembers(c.Body)
		switch {
		case m.problem != "":
			r.Add("members", Fail, "%s: refused with 400", m.problem)
			found = false
		default:
			r.Add("members", OK, `"signature" and "timestamp" found once each, as strings, at the top level`)
			signature, timestamp = m.signature, m.timestamp
		}
	}

	// 4. The timestamp and its freshness.
	var at time.Time
	if found {
		var err error
		if at, err = signer.ParseTimestamp(timestamp); err != nil {
			r.Add("timestamp", Fail, "%q: %v: refused with 400", timestamp, strings.TrimPrefix(err.Error(), "signer: "))
			found = false
		} else {
			r.Add("timestamp", OK, "%q: %s; %s", timestamp, style(timestamp), stamp(at))
			explainSkew(&r, at, c.At, c.AtFlag, tolerance, "refused with 401")
		}
	}

	// 5. The signature, key by key.
	if found {
		if _, err := signer.ParseSignature([]byte(signature)); err != nil {
			r.Add("signature", Fail, "%s (%d characters) is not 44 characters of standard, padded base64 (32 bytes): refused with 401",
				short(signature), len(signature))
		} else {
			r.Add("signature", OK, "%s: 32 bytes in standard base64", short(signature))
			explainKeys(&r, c.Keys, timestamp, signature, at, c.At, format, bound)
		}
	}
	r.Add("replay", Info, "not checked here (one callback alone): the proxy refuses a pair seen before with another body, and acknowledges one already handled")

	// The verdict is the Guard's own.
	status, reason, cb := judge(c, header, sets)
	if status >= 200 && status < 300 {
		r.OK = true
		r.Add("verdict", OK, "ADMITTED: the guard would pass it on (signed by %s, %s, %s-signed)", cb.KeyID, cb.Environment, cb.Format)
	} else {
		r.Add("verdict", Fail, "REFUSED with %d: %s", status, reason)
	}
	return r
}

// explainSkew adds the skew line and reports whether the timestamp is
// fresh.
func explainSkew(r *Report, at, now time.Time, atFlag bool, tolerance time.Duration, consequence string) bool {
	from := "now"
	if atFlag {
		from = "--at " + stamp(now)
	}
	d := at.Sub(now)
	switch {
	case d < -tolerance:
		text := fmt.Sprintf("%s from %s: too old, outside the tolerance of %v (--tolerance): %s", describeSkew(at, now), from, tolerance, consequence)
		if h, ok := hoursOff(d); ok {
			text += fmt.Sprintf("; about %d hour(s) off: a local time sent as UTC?", h)
		}
		r.Add("skew", Fail, "%s", text)
		return false
	case d > tolerance:
		text := fmt.Sprintf("%s from %s: too far ahead, outside the tolerance of %v (--tolerance): %s", describeSkew(at, now), from, tolerance, consequence)
		if h, ok := hoursOff(d); ok {
			text += fmt.Sprintf("; about %d hour(s) off: a local time sent as UTC?", h)
		}
		r.Add("skew", Fail, "%s", text)
		return false
	}
	r.Add("skew", OK, "%s from %s: within the tolerance of %v", describeSkew(at, now), from, tolerance)
	return true
}

// explainKeys adds one line per key: whether it verifies, and why not.
// A key that did not make the signature is a failure only when no usable
// key did.
func explainKeys(r *Report, keys []signer.Key, timestamp, signature string, signedAt, now time.Time,
	format middleware.CallbackFormat, bound signer.Environment) {
	type verdict struct {
		asIs, withTrimmed, tried bool
	}
	verdicts := make([]verdict, len(keys))
	anyVerifies := false
	for i, k := range keys {
		v := &verdicts[i]
		v.asIs = signer.Verify(k.APIKey, k.PartnerID, timestamp, signature)
		trimmed := signer.TrimPartnerID(k.PartnerID)
		v.withTrimmed = trimmed != k.PartnerID && signer.Verify(k.APIKey, trimmed, timestamp, signature)
		v.tried = (bound == "" || k.Environment == bound) && k.UsableAt(now)
		if v.tried && (v.asIs || v.withTrimmed && format == middleware.HeaderSigned) {
			anyVerifies = true
		}
	}
	for i, k := range keys {
		v := verdicts[i]
		check := "key " + k.ID
		trimmed := signer.TrimPartnerID(k.PartnerID)
		mark, though := Info, ""
		if v.asIs || v.withTrimmed {
			mark, though = Fail, ", though the signature is its"
		}
		switch {
		case bound != "" && k.Environment != bound:
			r.Add(check, mark, "not tried: a %s key, and the source binds %s%s", k.Environment, bound, though)
		case !k.NotBefore.IsZero() && now.Before(k.NotBefore):
			r.Add(check, mark, "not tried: not valid before %s (not_before)%s", stamp(k.NotBefore), though)
		case !k.NotAfter.IsZero() && !now.Before(k.NotAfter):
			r.Add(check, mark, "not tried: expired at %s (not_after)%s", stamp(k.NotAfter), though)
		case v.asIs:
			r.Add(check, OK, "verifies (%s, partner id %q)", k.Environment, k.PartnerID)
		case v.withTrimmed && format == middleware.HeaderSigned:
			r.Add(check, OK, "verifies with the partner id without its leading zeros (%q for %q), as Smile ID's v3 API spells it",
				trimmed, k.PartnerID)
		case v.withTrimmed:
			r.Add(check, Fail, "signed with the partner id without its leading zeros (%q); a body-signed callback is checked with %q, as configured",
				trimmed, k.PartnerID)
		default:
			if other := respelledBy(k, timestamp, signature, signedAt); other != "" {
				r.Add(check, Fail, "signed over %q, not over the timestamp sent: the sender signed one string and sent another", other)
			} else if anyVerifies {
				r.Add(check, Info, "did not make this signature")
			} else {
				r.Add(check, Fail, "does not verify: another API key, partner id or timestamp string made this signature")
			}
		}
	}
}

// respelledBy returns the other spelling of the timestamp's instant that
// k signed, if any.
func respelledBy(k signer.Key, timestamp, signature string, at time.Time) string {
	if at.IsZero() {
		return ""
	}
	for _, ts := range respellings(timestamp, at) {
		if signer.Verify(k.APIKey, k.PartnerID, ts, signature) {
			return ts
		}
	}
	return ""
}

// judge runs the callback through a Guard configured as the proxy would
// be, at c.At, and returns its status, its reason and, if admitted, the
// Callback it verified.
func judge(c Callback, header http.Header, sets []allowlist.Set) (int, string, middleware.Callback) {
	keyring, err := signer.NewKeyring(c.Keys...)
	if err != nil {
		return 0, "the keys: " + err.Error(), middleware.Callback{}
	}
	cfg := c.Callback
	cfg.Keyring = keyring
	cfg.Now = func() time.Time { return c.At }
	var verdict middleware.Callback
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verdict, _ = middleware.CallbackFromContext(r.Context())
		w.WriteHeader(http.StatusOK)
	})
	var handler http.Handler
	remote := "192.0.2.1:40000"
	if c.IP.IsValid() {
		if len(sets) == 0 {
			return http.StatusForbidden, "the source address is not allowed", verdict
		}
		g, err := middleware.NewGuard(middleware.GuardConfig{Allowlist: allowlist.Config{Allow: sets}, Callback: cfg})
		if err != nil {
			return 0, err.Error(), verdict
		}
		handler = g.Handler(next)
		remote = netip.AddrPortFrom(c.IP, 40000).String()
	} else {
		v, err := middleware.NewCallbackVerifier(cfg)
		if err != nil {
			return 0, err.Error(), verdict
		}
		handler = v.Handler(next)
	}
	req := httptest.NewRequest(http.MethodPost, "/smileid/callback", bytes.NewReader(c.Body))
	req.Header = header
	req.RemoteAddr = remote
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, req)
	reason := strings.TrimSpace(w.Body.String())
	if w.Code == http.StatusForbidden {
		reason = "the source address is not allowed"
	}
	return w.Code, reason, verdict
}
