package config

import (
	"time"

	"github.com/smileguard/smileguard/cmd/smileguard/internal/flagenv"
	"github.com/smileguard/smileguard/middleware"
)

// CallbackFlags are the callback verifier's options: freshness, body cap
// and formats.
type CallbackFlags struct {
	fs           *flagenv.Set
	Tolerance    flagenv.Duration
	MaxBodyBytes int64
	Formats      flagenv.List
}

// DefineCallbackFlags defines --tolerance, --max-body-bytes and --formats
// on fs; all read their variables.
func DefineCallbackFlags(fs *flagenv.Set) *CallbackFlags {
	c := &CallbackFlags{fs: fs, Tolerance: flagenv.Duration(middleware.DefaultTolerance), MaxBodyBytes: middleware.DefaultMaxBodyBytes}
	fs.Var(&c.Tolerance, "tolerance", "how far a callback's timestamp may be from now, in either direction (`DURATION`, at most 1h)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "the largest callback body accepted, in `BYTES` (Smile ID asks for 1.5 MB)")
	fs.Var(&c.Formats, "formats", "the callback formats accepted, `LIST` of body (v1/v2: signature and timestamp in the JSON body)\n"+
		"and header (v3: Response-Signature and Response-Timestamp headers); default: both")
	fs.Env("tolerance", "max-body-bytes", "formats")
	return c
}

// Config returns the verifier's options as a CallbackConfig without a
// Keyring, checked with the bounds NewCallbackVerifier applies so that a
// problem names the flag.
func (c *CallbackFlags) Config(p *Problems) middleware.CallbackConfig {
	cfg := middleware.CallbackConfig{Tolerance: time.Duration(c.Tolerance), MaxBodyBytes: c.MaxBodyBytes}
	switch {
	case cfg.Tolerance <= 0:
		p.Add("%s %v: must be positive", c.fs.Source("tolerance"), cfg.Tolerance)
	case cfg.Tolerance > middleware.MaxTolerance:
		p.Add("%s %v: over the maximum of %v, a wide door for replays", c.fs.Source("tolerance"), cfg.Tolerance, middleware.MaxTolerance)
	}
	switch {
	case cfg.MaxBodyBytes <= 0:
		p.Add("%s %d: must be positive", c.fs.Source("max-body-bytes"), cfg.MaxBodyBytes)
	case cfg.MaxBodyBytes > middleware.MaxBodyBytesLimit:
		p.Add("%s %d: over the maximum of %d (a body is held in memory whole)", c.fs.Source("max-body-bytes"), cfg.MaxBodyBytes, middleware.MaxBodyBytesLimit)
	}
	for _, f := range c.Formats {
		switch middleware.CallbackFormat(f) {
		case middleware.BodySigned, middleware.HeaderSigned:
			cfg.Formats = append(cfg.Formats, middleware.CallbackFormat(f))
		default:
			p.Add("%s: %q is neither body nor header", c.fs.Source("formats"), f)
		}
	}
	return cfg
}
