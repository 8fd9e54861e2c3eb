package metriclabels

import (
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// Other is the label value that stands for any value outside a label's
// fixed set: an outcome, reason, environment or format this version of the
// adapters does not know (a newer core's, or an Event a caller made up),
// and the key IDs past the adapters' bound. It keeps every label bounded
// whatever an Observer is given.
const Other = "other"

// The fixed sets, in index order. The last index of each is Other.
var (
	OutcomeValues = [...]string{
		string(middleware.Accepted),
		string(middleware.Acknowledged),
		string(middleware.Refused),
		Other,
	}

	// ReasonValues lists every middleware.ReasonCode, in the order the
	// guard checks a request.
	ReasonValues = [...]string{
		string(middleware.ReasonForbidden),
		string(middleware.ReasonCredentials),
		string(middleware.ReasonRateLimited),
		string(middleware.ReasonMethodNotAllowed),
		string(middleware.ReasonUnsupportedMediaType),
		string(middleware.ReasonBodyTooLarge),
		string(middleware.ReasonBodyRead),
		string(middleware.ReasonMalformed),
		string(middleware.ReasonCaseVariant),
		string(middleware.ReasonSignatureHeaders),
		string(middleware.ReasonFormatRefused),
		string(middleware.ReasonBadTimestamp),
		string(middleware.ReasonStale),
		string(middleware.ReasonInvalidSignature),
		string(middleware.ReasonReplayed),
		string(middleware.ReasonInFlight),
		string(middleware.ReasonAlreadyHandled),
		string(middleware.ReasonUnavailable),
		string(middleware.ReasonAccepted),
		string(middleware.ReasonNotHandled),
		string(middleware.ReasonInternal),
		Other,
	}

	// EnvironmentValues: "" is an event from before a signature verified.
	EnvironmentValues = [...]string{"", string(signer.Production), string(signer.Sandbox), Other}

	// FormatValues: "" is an event from before the body was read.
	FormatValues = [...]string{"", string(middleware.BodySigned), string(middleware.HeaderSigned), Other}
)

// How many values each label takes, Other included: the sizes of the
// adapters' series tables.
const (
	NumOutcomes     = len(OutcomeValues)
	NumReasons      = len(ReasonValues)
	NumEnvironments = len(EnvironmentValues)
	NumFormats      = len(FormatValues)
)

// The index functions are switches rather than map look-ups: no hashing on
// the request path, and an unknown value costs no more than a known one.

// OutcomeIndex returns the index of o in OutcomeValues, or Other's for a value
// not listed.
func OutcomeIndex(o middleware.Outcome) int {
	switch o {
	case middleware.Accepted:
		return 0
	case middleware.Acknowledged:
		return 1
	case middleware.Refused:
		return 2
	}
	return NumOutcomes - 1
}

// ReasonIndex returns the index of r in ReasonValues, or Other's for a value
// not listed.
func ReasonIndex(r middleware.ReasonCode) int {
	switch r {
	case middleware.ReasonForbidden:
		return 0
	case middleware.ReasonCredentials:
		return 1
	case middleware.ReasonRateLimited:
		return 2
	case middleware.ReasonMethodNotAllowed:
		return 3
	case middleware.ReasonUnsupportedMediaType:
		return 4
	case middleware.ReasonBodyTooLarge:
		return 5
	case middleware.ReasonBodyRead:
		return 6
	case middleware.ReasonMalformed:
		return 7
	case middleware.ReasonCaseVariant:
		return 8
	case middleware.ReasonSignatureHeaders:
		return 9
	case middleware.ReasonFormatRefused:
		return 10
	case middleware.ReasonBadTimestamp:
		return 11
	case middleware.ReasonStale:
		return 12
	case middleware.ReasonInvalidSignature:
		return 13
	case middleware.ReasonReplayed:
		return 14
	case middleware.ReasonInFlight:
		return 15
	case middleware.ReasonAlreadyHandled:
		return 16
	case middleware.ReasonUnavailable:
		return 17
	case middleware.ReasonAccepted:
		return 18
	case middleware.ReasonNotHandled:
		return 19
	case middleware.ReasonInternal:
		return 20
	}
	return NumReasons - 1
}

// EnvironmentIndex returns the index of e in EnvironmentValues, or Other's for a value
// not listed.
func EnvironmentIndex(e signer.Environment) int {
	switch e {
	case "":
		return 0
	case signer.Production:
		return 1
	case signer.Sandbox:
		return 2
	}
	return NumEnvironments - 1
}

// FormatIndex returns the index of f in FormatValues, or Other's for a value
// not listed.
func FormatIndex(f middleware.CallbackFormat) int {
	switch f {
	case "":
		return 0
	case middleware.BodySigned:
		return 1
	case middleware.HeaderSigned:
		return 2
	}
	return NumFormats - 1
}
