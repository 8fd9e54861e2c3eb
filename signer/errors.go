package signer

import "errors"

// Sentinel errors, for callers to branch on with [errors.Is]. Every error
// this package makes wraps one of them (those of the Transport are beside
// it); an error it passes on from elsewhere (a request's context, a body
// that cannot be read, the rate limiter) wraps that error. None carries an
// API key, a token or a whole signature.
var (
	// ErrInvalidSignature means a signature did not verify: it is
	// malformed, or no usable key produced it.
	ErrInvalidSignature = errors.New("signer: invalid signature")

	// ErrMalformedSignature means the signature is not the standard
	// base64 encoding of 32 bytes. It wraps [ErrInvalidSignature].
	ErrMalformedSignature = wrapped{"signer: malformed signature", ErrInvalidSignature}

	// ErrNoUsableKey means no key of the requested environments is inside
	// its validity window now. It wraps [ErrInvalidSignature].
	ErrNoUsableKey = wrapped{"signer: no usable key for the environment", ErrInvalidSignature}

	// ErrBadTimestamp means a timestamp is in none of the styles Smile ID's
	// SDKs send.
	ErrBadTimestamp = errors.New("signer: bad timestamp")

	// ErrInvalidKey means a Key given to [NewKeyring], [Keyring.Replace] or
	// [CheckKeys], or as a [Transport]'s Key, is unusable; the error names
	// the key's ID (or the Transport's field) and the field at fault.
	ErrInvalidKey = errors.New("signer: invalid key")

	// ErrDuplicateAPIKey means [CheckKeys] found one APIKey under two IDs.
	// It wraps [ErrInvalidKey].
	ErrDuplicateAPIKey = wrapped{"signer: duplicate API key", ErrInvalidKey}

	// ErrEnvironmentMismatch means [CheckKeys] found an APIKey that names
	// the other environment than its Key's. It wraps [ErrInvalidKey].
	ErrEnvironmentMismatch = wrapped{"signer: API key labelled with the wrong environment", ErrInvalidKey}

	// ErrKeySource means [LoadKeysFile] or [LoadKeysEnv] could not load keys:
	// a missing or malformed file or variable, or a key [CheckKeys] refuses
	// (the error then wraps [ErrInvalidKey] too). The error names the file
	// or variable and the field at fault, never a value.
	ErrKeySource = errors.New("signer: cannot load keys")

	// ErrUnsafeKeyFile means a key file can be read or written by users
	// other than its owner. It wraps [ErrKeySource].
	ErrUnsafeKeyFile = wrapped{"signer: key file is open to other users", ErrKeySource}
)

// wrapped is a fixed error that also matches a broader sentinel. Its values
// are comparable and allocation-free to return.
type wrapped struct {
	msg    string
	parent error
}

func (e wrapped) Error() string { return e.msg }
func (e wrapped) Unwrap() error { return e.parent }
