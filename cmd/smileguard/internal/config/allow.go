package config

import (
	"slices"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/flagenv"
	"github.com/smileguard/smileguard/signer"
)

// AllowFlags are the flags that say which Smile ID environments callbacks
// are accepted from and from which addresses.
type AllowFlags struct {
	fs           *flagenv.Set
	Environments flagenv.List
	Production   flagenv.List
	Sandbox      flagenv.List
}

// DefineAllowFlags defines --environments, --allow-production and
// --allow-sandbox on fs; all read their variables.
func DefineAllowFlags(fs *flagenv.Set) *AllowFlags {
	a := &AllowFlags{fs: fs}
	fs.Var(&a.Environments, "environments", "the Smile ID environments whose callbacks are accepted, `LIST` of production and sandbox;\n"+
		"default: those the keys are for")
	fs.Var(&a.Production, "allow-production", "replace Smile ID's published production callback addresses with `LIST` (IPs and CIDRs);\n"+
		"callbacks from them must be signed with a production key")
	fs.Var(&a.Sandbox, "allow-sandbox", "replace Smile ID's published sandbox callback addresses with `LIST` (IPs and CIDRs);\n"+
		"callbacks from them must be signed with a sandbox key")
	fs.Env("environments", "allow-production", "allow-sandbox")
	return a
}

// Sets returns the environments accepted and their allowlist sets: the
// built-in allowlist.SmileIDProduction and SmileIDSandbox, or their
// addresses replaced (allowlist.Set.Replace). An address flag for an
// environment not accepted is refused.
func (a *AllowFlags) Sets(keys []signer.Key, p *Problems) ([]signer.Environment, []allowlist.Set) {
	var envs []signer.Environment
	if len(a.Environments) > 0 {
		for _, e := range a.Environments {
			env := signer.Environment(e)
			switch {
			case !env.Valid():
				p.Add("%s: %q is neither production nor sandbox", a.fs.Source("environments"), e)
			case slices.Contains(envs, env):
				p.Add("%s: %s is listed twice", a.fs.Source("environments"), e)
			default:
				envs = append(envs, env)
			}
		}
	} else {
		for _, env := range []signer.Environment{signer.Production, signer.Sandbox} {
			if slices.ContainsFunc(keys, func(k signer.Key) bool { return k.Environment == env }) {
				envs = append(envs, env)
			}
		}
	}

	var sets []allowlist.Set
	for _, b := range []struct {
		env   signer.Environment
		flag  string
		list  flagenv.List
		built allowlist.Set
	}{
		{signer.Production, "allow-production", a.Production, allowlist.SmileIDProduction},
		{signer.Sandbox, "allow-sandbox", a.Sandbox, allowlist.SmileIDSandbox},
	} {
		accepted := slices.Contains(envs, b.env)
		if len(b.list) > 0 && !accepted {
			p.Add("%s: %s callbacks are not accepted (no %s key, or not in --environments)", a.fs.Source(b.flag), b.env, b.env)
			continue
		}
		if !accepted {
			continue
		}
		set := b.built
		if len(b.list) > 0 {
			var err error
			if set, err = b.built.Replace(b.list...); err != nil {
				p.Add("%s: %v", a.fs.Source(b.flag), err)
				continue
			}
		}
		sets = append(sets, set)
	}
	return envs, sets
}

// CheckUsable refuses an accepted environment without a key usable at
// now: every callback from it would be refused.
func CheckUsable(envs []signer.Environment, keys []signer.Key, now time.Time, p *Problems) {
	for _, env := range envs {
		if !UsableKey(keys, env, now) {
			p.Add("%s callbacks are accepted but no %s key is usable now: every one would be refused", env, env)
		}
	}
}

// UsableKey reports whether keys hold a key of env usable at now.
func UsableKey(keys []signer.Key, env signer.Environment, now time.Time) bool {
	return slices.ContainsFunc(keys, func(k signer.Key) bool { return k.Environment == env && k.UsableAt(now) })
}
