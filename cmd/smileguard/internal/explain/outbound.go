package explain

import (
	"net/url"
	"strings"
	"time"

	"github.com/smileguard/smileguard/signer"
)

// An Outbound is the signature and timestamp of a request to Smile ID (v1
// body fields or v2 smileid-* headers), for the question "why does Smile
// ID answer 2205?".
type Outbound struct {
	Timestamp string
	Signature string
	PartnerID string // the partner id the request carried; "": not given
	URL       string // where it went; "": not given
	At        time.Time
	AtFlag    bool
	Tolerance time.Duration // how far from Smile ID's clock is taken as fine
	Keys      []signer.Key
}

// Smile ID's hosts, by environment.
var hosts = map[string]signer.Environment{
	"api.smileidentity.com":     signer.Production,
	"testapi.smileidentity.com": signer.Sandbox,
}

// ExplainOutbound explains whether Smile ID can accept o's signature: the
// timestamp's format and skew, and for each key whether it made the
// signature, for the environment the URL names and the partner id sent.
func ExplainOutbound(o Outbound) Report {
	var r Report
	good := true

	var env signer.Environment
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		switch {
		case err != nil || u.Host == "":
			r.Add("url", Fail, "not a URL")
			good = false
		default:
			var known bool
			if env, known = hosts[strings.ToLower(u.Hostname())]; known {
				r.Add("url", OK, "%s is Smile ID's %s host: only %s keys work there", u.Hostname(), env, env)
			} else {
				r.Add("url", Warn, "%s is not a Smile ID host (api.smileidentity.com, testapi.smileidentity.com)", u.Hostname())
			}
			if strings.HasPrefix(u.Path, "/v3/") {
				r.Add("api version", Warn, "a /v3/ path: v3 calls carry a SmileID-Token from /v3/token, not a signature")
			}
		}
	} else {
		r.Add("url", Info, "not given (--url): the key's environment is not checked against the host")
	}

	at, err := signer.ParseTimestamp(o.Timestamp)
	if err != nil {
		r.Add("timestamp", Fail, "%q: %v: Smile ID cannot read it (2204/2205)", o.Timestamp, strings.TrimPrefix(err.Error(), "signer: "))
		good = false
	} else if documented(o.Timestamp) {
		r.Add("timestamp", OK, "%q: %s; %s", o.Timestamp, style(o.Timestamp), stamp(at))
	} else {
		r.Add("timestamp", Warn, "%q: %s; %s. Smile ID documents yyyy-MM-dd'T'HH:mm:ss.fffZ: if 2205 persists, send that",
			o.Timestamp, style(o.Timestamp), stamp(at))
	}
	if err == nil {
		tolerance := o.Tolerance
		if tolerance == 0 {
			tolerance = 5 * time.Minute
		}
		if !explainSkew(&r, at, o.At, o.AtFlag, tolerance, "Smile ID checks timestamps against its clock and answers 2204/2205; sync yours with NTP") {
			good = false
		}
	}

	if _, err := signer.ParseSignature([]byte(o.Signature)); err != nil {
		r.Add("signature", Fail, "%s (%d characters) is not 44 characters of standard, padded base64", short(o.Signature), len(o.Signature))
		r.Add("verdict", Fail, "Smile ID cannot accept this signature")
		return r
	}
	r.Add("signature", OK, "%s: 32 bytes in standard base64", short(o.Signature))

	var signedBy []signer.Key
	for _, k := range o.Keys {
		check := "key " + k.ID
		trimmed := signer.TrimPartnerID(k.PartnerID)
		switch {
		case signer.Verify(k.APIKey, k.PartnerID, o.Timestamp, o.Signature):
			signedBy = append(signedBy, k)
			problem := ""
			switch {
			case env != "" && k.Environment != env:
				problem = "but it is a " + string(k.Environment) + " key sent to the " + string(env) + " host: Smile ID answers 2205"
			case o.PartnerID != "" && o.PartnerID != k.PartnerID:
				problem = "but the request names partner id \"" + o.PartnerID + "\": send the partner id exactly as signed"
			case !k.UsableAt(o.At):
				problem = "but the key is outside its validity window (not_before, not_after)"
			}
			if problem != "" {
				r.Add(check, Fail, "made this signature (%s, partner id %q), %s", k.Environment, k.PartnerID, problem)
				good = false
			} else {
				r.Add(check, OK, "made this signature (%s, partner id %q)", k.Environment, k.PartnerID)
			}
		case trimmed != k.PartnerID && signer.Verify(k.APIKey, trimmed, o.Timestamp, o.Signature):
			signedBy = append(signedBy, k)
			r.Add(check, Warn, "made this signature with the partner id without its leading zeros (%q); v1/v2 requests must sign the partner id they send",
				trimmed)
		default:
			if other := respelledBy(k, o.Timestamp, o.Signature, at); other != "" {
				r.Add(check, Fail, "signed %q, not the timestamp sent: the body's timestamp must be the signed string (2205)", other)
				signedBy = append(signedBy, k)
				good = false
			} else {
				r.Add(check, Info, "did not make this signature")
			}
		}
	}
	switch {
	case len(signedBy) == 0:
		r.Add("verdict", Fail, "none of the keys made this signature: a wrong API key or partner id (2205)")
	case !good:
		r.Add("verdict", Fail, "the signature is a key's, but Smile ID will refuse the request as sent")
	default:
		r.OK = true
		r.Add("verdict", OK, "Smile ID can accept this signature; if it still answers 2205, check the API key is the one the portal shows for this partner and environment")
	}
	return r
}
