package metriclabels

import (
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// A LabelSet is one series of the callbacks counter.
type LabelSet struct {
	Outcome     middleware.Outcome
	Reason      middleware.ReasonCode
	Environment signer.Environment
	Format      middleware.CallbackFormat
}

// ExpectedSeries lists the series of the callbacks counter the guard can
// produce, for verified callbacks of the given environments, following the
// order of its checks: the format is known once the body has been read,
// the environment once the signature has verified. It only decides which
// series start at zero; the others are counted all the same.
func ExpectedSeries(environments []signer.Environment) []LabelSet {
	var sets []LabelSet
	// Before the body is read: no format, no environment.
	for _, r := range []middleware.ReasonCode{
		middleware.ReasonForbidden, middleware.ReasonCredentials, middleware.ReasonRateLimited,
		middleware.ReasonMethodNotAllowed, middleware.ReasonUnsupportedMediaType,
		middleware.ReasonBodyTooLarge, middleware.ReasonBodyRead,
		middleware.ReasonUnavailable, middleware.ReasonInternal,
	} {
		sets = append(sets, LabelSet{middleware.Refused, r, "", ""})
	}
	// After the body is read, before the signature verifies: a format, no
	// environment.
	for _, f := range []middleware.CallbackFormat{middleware.BodySigned, middleware.HeaderSigned} {
		for _, r := range []middleware.ReasonCode{
			middleware.ReasonMalformed, middleware.ReasonFormatRefused,
			middleware.ReasonBadTimestamp, middleware.ReasonStale, middleware.ReasonInvalidSignature,
		} {
			sets = append(sets, LabelSet{middleware.Refused, r, "", f})
		}
	}
	sets = append(sets,
		LabelSet{middleware.Refused, middleware.ReasonCaseVariant, "", middleware.BodySigned},
		LabelSet{middleware.Refused, middleware.ReasonSignatureHeaders, "", middleware.HeaderSigned})
	// Verified: both.
	for _, env := range environments {
		for _, f := range []middleware.CallbackFormat{middleware.BodySigned, middleware.HeaderSigned} {
			sets = append(sets,
				LabelSet{middleware.Accepted, middleware.ReasonAccepted, env, f},
				LabelSet{middleware.Accepted, middleware.ReasonNotHandled, env, f},
				LabelSet{middleware.Acknowledged, middleware.ReasonAlreadyHandled, env, f},
				LabelSet{middleware.Refused, middleware.ReasonReplayed, env, f},
				LabelSet{middleware.Refused, middleware.ReasonInFlight, env, f},
				LabelSet{middleware.Refused, middleware.ReasonUnavailable, env, f})
		}
	}
	return sets
}
