// Command demo shows smileguard at work in one command, with nothing to
// configure:
//
//	go run ./examples/demo
//
// It starts a Smile ID callback receiver guarded by middleware.Guard on the
// loopback interface, behind a small reverse proxy that it trusts as your
// load balancer. Then it plays Smile ID posting genuine callbacks, signed
// in the body (v1, v2) and in headers (v3 webhooks), and attackers trying
// what the guard must stop: forged and stale signatures, a genuine
// signature replayed with another body or moved from headers into the
// body, a spoofed X-Forwarded-For, an address that is not Smile ID's, an
// oversized body, a flood. It prints what the guard answered to each, and
// why, and exits with status 1 if any answer differs from the one
// expected. The API keys are made up for the run and
// never printed.
package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ok, err := run(ctx, os.Stdout)
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	case !ok:
		os.Exit(1)
	}
}
