package signer

// Environment is a Smile ID environment. API keys belong to exactly one: a
// sandbox key is refused in production and the other way round.
type Environment string

// The Smile ID environments.
const (
	Sandbox    Environment = "sandbox"    // testapi.smileidentity.com
	Production Environment = "production" // api.smileidentity.com
)

// Host returns the environment's Smile ID API host, or "" for an unknown
// environment.
func (e Environment) Host() string {
	switch e {
	case Sandbox:
		return "testapi.smileidentity.com"
	case Production:
		return "api.smileidentity.com"
	}
	return ""
}

// Valid reports whether e is Sandbox or Production.
func (e Environment) Valid() bool { return e.Host() != "" }
