package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"slices"

	"github.com/smileguard/smileguard/signer"
)

// Reload reads the keys again and swaps them in at once (Keyring.Replace),
// and the TLS certificate if one is configured, as SIGHUP asks. A source
// that fails to load, or whose keys leave an accepted environment without
// a usable key, changes nothing: the previous keys stay in force and the
// reason is logged at Error. Callbacks in flight finish with the keys they
// started with.
func (p *Proxy) Reload() {
	ctx := context.Background()
	if err := p.reloadKeys(); err != nil {
		p.metrics.reloaded(false)
		p.logger.Error("smileguard: keys not reloaded; the previous keys stay in force", "error", err.Error())
	} else {
		p.metrics.reloaded(true)
		keys := p.keyring.Keys()
		p.lifecycle.Info("smileguard: keys reloaded", "keys", keyIDs(keys), "key_source", p.cfg.Keys.Describe())
		for _, k := range keys {
			if !slices.Contains(p.cfg.Environments, k.Environment) {
				p.logger.Warn("smileguard: a reloaded key is for an environment whose callbacks are not accepted; restart with it in --environments",
					"key_id", k.ID, "environment", string(k.Environment))
			}
		}
		signer.LogKeyWarnings(ctx, p.logger, p.keyring.Review(now(), p.cfg.Callback.KeyPolicy))
	}
	if p.cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(p.cfg.TLSCert, p.cfg.TLSKey)
		if err != nil {
			p.logger.Error("smileguard: TLS certificate not reloaded; the previous one stays in force", "error", err.Error())
			return
		}
		p.cert.Store(&cert)
		p.lifecycle.Info("smileguard: TLS certificate reloaded", "cert", p.cfg.TLSCert)
	}
}

func (p *Proxy) reloadKeys() error {
	keys, err := p.cfg.Keys.Load()
	if err != nil {
		return err
	}
	t := now()
	for _, env := range p.cfg.Environments {
		if !slices.ContainsFunc(keys, func(k signer.Key) bool { return k.Environment == env && k.UsableAt(t) }) {
			return fmt.Errorf("smileguard: %s: no %s key usable now, and %s callbacks are accepted", p.cfg.Keys.Describe(), env, env)
		}
	}
	return p.keyring.Replace(keys...)
}
