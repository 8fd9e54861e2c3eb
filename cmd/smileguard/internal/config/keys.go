package config

import (
	"strings"

	"github.com/smileguard/smileguard/cmd/smileguard/internal/flagenv"
	"github.com/smileguard/smileguard/signer"
)

// KeyFlags are the flags that say where the API keys are: a key file
// (signer.LoadKeysFile) or environment variables (signer.LoadKeysEnv).
type KeyFlags struct {
	fs        *flagenv.Set
	File      string
	EnvPrefix string
}

// DefineKeyFlags defines --keys-file and --keys-env-prefix on fs; both read
// their variables.
func DefineKeyFlags(fs *flagenv.Set) *KeyFlags {
	k := &KeyFlags{fs: fs}
	fs.StringVar(&k.File, "keys-file", "", "the API keys: a JSON `FILE` only its owner can read (chmod 600);\n"+
		`{"keys": [{"id", "partner_id", "environment", "api_key", "created_at", "not_before", "not_after"}]}`+"\n"+
		"without it, the keys are read from the environment (see --keys-env-prefix)")
	fs.StringVar(&k.EnvPrefix, "keys-env-prefix", signer.DefaultKeyEnvPrefix, "without --keys-file, read the keys from `PREFIX`_KEYS (the IDs, comma-separated)\n"+
		"and PREFIX_<ID>_PARTNER_ID, _API_KEY, _ENVIRONMENT, optional _CREATED_AT, _NOT_BEFORE, _NOT_AFTER")
	fs.Env("keys-file", "keys-env-prefix")
	return k
}

// A KeySource loads the keys, at start and again on every reload.
type KeySource struct {
	File      string // "": the environment
	EnvPrefix string
	Lookup    func(string) (string, bool)
}

// Describe says where the keys come from, for logs: the file's path or
// the list variable.
func (s KeySource) Describe() string {
	if s.File != "" {
		return "file " + s.File
	}
	return "environment " + s.EnvPrefix + "_KEYS"
}

// Load reads the keys. Its errors name the file or the variable and the
// key, never a value (the signer's loaders guarantee it).
func (s KeySource) Load() ([]signer.Key, error) {
	if s.File != "" {
		return signer.LoadKeysFile(s.File)
	}
	return signer.LoadKeysEnv(s.EnvPrefix, s.Lookup)
}

// Source returns the configured key source and checks it: a key file and
// a list variable both set is refused, so that nobody edits one while the
// other is in force. It does not load the keys.
func (k *KeyFlags) Source(lookup func(string) (string, bool), p *Problems) KeySource {
	src := KeySource{File: k.File, EnvPrefix: k.EnvPrefix, Lookup: lookup}
	listVar := k.EnvPrefix + "_KEYS"
	list, _ := lookup(listVar)
	switch {
	case k.File != "" && strings.TrimSpace(list) != "":
		p.Add("%s and %s are both set: keep the keys in one place", k.fs.Source("keys-file"), listVar)
	case k.File == "" && strings.TrimSpace(list) == "":
		p.Add("no keys: give --keys-file (env %s) or set %s", flagenv.EnvName("keys-file"), listVar)
	}
	return src
}

// LoadNamed loads the keys and names the flag in the error.
func (k *KeyFlags) LoadNamed(src KeySource, p *Problems) []signer.Key {
	keys, err := src.Load()
	if err != nil {
		if src.File != "" {
			p.Add("%s: %v", k.fs.Source("keys-file"), err)
		} else {
			p.Add("%s: %v", k.fs.Source("keys-env-prefix"), err)
		}
		return nil
	}
	return keys
}
