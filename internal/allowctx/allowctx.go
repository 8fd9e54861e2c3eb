// Package allowctx holds the context key under which package allowlist's
// Decision travels. It is internal so that only the allowlist and the
// middleware of this module can place a Decision: code elsewhere in a
// process cannot forge the client IP and set that environment binding
// trusts. The value under the key is a *allowlist.Decision.
package allowctx

// DecisionKey is the context key of an admitted request's Decision.
type DecisionKey struct{}
