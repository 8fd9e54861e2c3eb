package confirm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// DefaultTimeout bounds one question to Smile ID.
const DefaultTimeout = 5 * time.Second

// maxAnswerBytes bounds the answer read: job_status with its result, no
// images asked for, is a few kilobytes.
const maxAnswerBytes = 1 << 20

// Config configures a Confirmer: a client per environment, each with a
// signer.Transport for that environment's key (VerifyResponses set), so
// that requests are signed and answers verified.
type Config struct {
	Production *http.Client // nil: production callbacks cannot be confirmed
	Sandbox    *http.Client // nil: sandbox callbacks cannot be confirmed

	// ProductionURL and SandboxURL replace "https://" + the environment's
	// Smile ID host, for tests or an egress proxy.
	ProductionURL, SandboxURL string

	Timeout time.Duration // bounds each question; 0: DefaultTimeout
}

// A Confirmer asks Smile ID about a callback's body (see the package
// documentation). It implements middleware.Confirmer and is safe for
// concurrent use.
type Confirmer struct {
	production, sandbox endpoint
	timeout             time.Duration
}

// endpoint is one environment's client and base URL.
type endpoint struct {
	client  *http.Client
	baseURL string
}

// New validates cfg and returns a Confirmer.
func New(cfg Config) (*Confirmer, error) {
	switch {
	case cfg.Production == nil && cfg.Sandbox == nil:
		return nil, errors.New("confirm: Config has neither a Production nor a Sandbox client")
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("confirm: Config.Timeout %v is negative", cfg.Timeout)
	}
	c := &Confirmer{
		production: endpoint{cfg.Production, baseURL(cfg.ProductionURL, signer.Production)},
		sandbox:    endpoint{cfg.Sandbox, baseURL(cfg.SandboxURL, signer.Sandbox)},
		timeout:    cfg.Timeout,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	return c, nil
}

func baseURL(configured string, env signer.Environment) string {
	if configured != "" {
		return configured
	}
	return "https://" + env.Host()
}

// ErrNoClient means the Confirmer has no client for the callback's
// environment: it cannot ask.
var ErrNoClient = errors.New("confirm: no client for the callback's environment")

// Confirm implements middleware.Confirmer: nil if Smile ID's answer matches
// body, an error matching middleware.ErrNotConfirmed if it does not (or body
// names no job), another error if Smile ID could not be asked.
func (c *Confirmer) Confirm(ctx context.Context, cb middleware.Callback, body []byte) error {
	e := c.production
	if cb.Environment == signer.Sandbox {
		e = c.sandbox
	}
	if e.client == nil {
		return ErrNoClient
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if cb.Format == middleware.HeaderSigned {
		return c.v3Status(ctx, e, body)
	}
	return c.jobStatus(ctx, e, body)
}

// refuted is a refutation that names what differed, never a value.
func refuted(format string, args ...any) error {
	return fmt.Errorf("confirm: "+format+": %w", append(args, middleware.ErrNotConfirmed)...)
}

// ask sends req and returns the answer's body, which must be a 200.
func ask(e endpoint, req *http.Request) ([]byte, error) {
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("confirm: asking Smile ID: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("confirm: reading Smile ID's answer: %w", err)
	case len(answer) > maxAnswerBytes:
		return nil, errors.New("confirm: Smile ID's answer is over 1 MiB")
	case resp.StatusCode == http.StatusNotFound:
		return nil, refuted("Smile ID knows no such job")
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("confirm: Smile ID answered %s", resp.Status)
	}
	return answer, nil
}
