package otelmetrics

import (
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// other is the attribute value that stands for any value outside an
// attribute's fixed set: an outcome, reason, environment or format this
// version of the package does not know (a newer core's, or an Event a
// caller made up), and the key IDs past the first maxKeyIDs. It keeps every
// attribute bounded whatever Observe is given. The values are those of
// middleware/prommetrics, so that dashboards fit both.
const other = "other"

// The fixed sets, in index order. The last index of each is other.
var (
	outcomeValues = [...]string{
		string(middleware.Accepted),
		string(middleware.Acknowledged),
		string(middleware.Refused),
		other,
	}

	// reasonValues lists every middleware.ReasonCode, in the order the
	// guard checks a request.
	reasonValues = [...]string{
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
		other,
	}

	// environmentValues: "" is an event from before a signature verified.
	environmentValues = [...]string{"", string(signer.Production), string(signer.Sandbox), other}

	// formatValues: "" is an event from before the body was read.
	formatValues = [...]string{"", string(middleware.BodySigned), string(middleware.HeaderSigned), other}
)

const (
	numOutcomes     = len(outcomeValues)
	numReasons      = len(reasonValues)
	numEnvironments = len(environmentValues)
	numFormats      = len(formatValues)
)

// The index functions are switches rather than map look-ups: no hashing on
// the request path, and an unknown value costs no more than a known one.

func outcomeIndex(o middleware.Outcome) int {
	switch o {
	case middleware.Accepted:
		return 0
	case middleware.Acknowledged:
		return 1
	case middleware.Refused:
		return 2
	}
	return numOutcomes - 1
}

func reasonIndex(r middleware.ReasonCode) int {
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
	return numReasons - 1
}

func environmentIndex(e signer.Environment) int {
	switch e {
	case "":
		return 0
	case signer.Production:
		return 1
	case signer.Sandbox:
		return 2
	}
	return numEnvironments - 1
}

func formatIndex(f middleware.CallbackFormat) int {
	switch f {
	case "":
		return 0
	case middleware.BodySigned:
		return 1
	case middleware.HeaderSigned:
		return 2
	}
	return numFormats - 1
}
