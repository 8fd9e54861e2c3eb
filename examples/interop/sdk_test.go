package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// sdkVersion is the version of smile-identity-core the tests are pinned to,
// as testdata/package.json and testdata/package-lock.json pin it.
const sdkVersion = "3.2.1"

// sdkDir holds the bridge script and the SDK's npm installation.
const sdkDir = "testdata"

// nodeTimeout bounds one node process: starting node and loading the SDK
// takes well under a second.
const nodeTimeout = 30 * time.Second

// requireNode reports whether a missing node or SDK installation fails the
// tests instead of skipping them, as CI asks.
func requireNode() bool { return os.Getenv("SMILEGUARD_REQUIRE_NODE") != "" }

// nodeMissing is the message of a skipped test.
const nodeMissing = "node not found: install Node.js and run npm ci in examples/interop/testdata"

// findNode returns the path of node, skipping t (or failing it, under
// SMILEGUARD_REQUIRE_NODE) if node or the SDK's installation is missing.
func findNode(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(sdkDir, "node_modules", "smile-identity-core", "package.json"))
	}
	if err != nil {
		if requireNode() {
			t.Fatalf("%s (SMILEGUARD_REQUIRE_NODE is set): %v", nodeMissing, err)
		}
		t.Skipf("%s; set SMILEGUARD_REQUIRE_NODE=1 to fail instead (%v)", nodeMissing, err)
	}
	return node
}

// runSDK runs testdata/sdk.js command with request as its JSON input and
// decodes its answer's results into results. It fails t if node fails or
// the installed SDK is not the pinned version.
func runSDK(t testing.TB, command string, request, results any) {
	t.Helper()
	node := findNode(t)
	in, err := json.Marshal(request)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "sdk.js", command)
	cmd.Dir = sdkDir
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node sdk.js %s: %v\n%s", command, err, stderr.Bytes())
	}
	var answer struct {
		SDKVersion string          `json:"sdk_version"`
		Results    json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &answer); err != nil {
		t.Fatalf("node sdk.js %s: unreadable answer: %v", command, err)
	}
	if answer.SDKVersion != sdkVersion {
		t.Fatalf("smile-identity-core %s is installed, the tests are pinned to %s: run npm ci in examples/interop/testdata",
			answer.SDKVersion, sdkVersion)
	}
	if err := json.Unmarshal(answer.Results, results); err != nil {
		t.Fatalf("node sdk.js %s: unreadable results: %v", command, err)
	}
}

// A generateRequest asks the SDK for one signature. A nil Timestamp lets
// the SDK pick its default; otherwise it is passed as is (a string or a
// number). Fields are the other members of the body the SDK builds.
type generateRequest struct {
	PartnerID string            `json:"partner_id"`
	APIKey    string            `json:"api_key"`
	Timestamp any               `json:"timestamp,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
}

// A generated signature, as the SDK returned it.
type generated struct {
	Signature string          `json:"signature"`
	Timestamp json.RawMessage `json:"timestamp"` // a string, or a number if one was asked for
	Body      string          `json:"body"`      // JSON.stringify({...fields, ...generated})
}

// timestamp returns the generated timestamp, which must be a JSON string.
func (g generated) timestamp(t testing.TB) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(g.Timestamp, &s); err != nil {
		t.Fatalf("the SDK returned the timestamp %s, not a string", g.Timestamp)
	}
	return s
}

// generate has the SDK sign each request, in one node process.
func generate(t testing.TB, requests []generateRequest) []generated {
	t.Helper()
	var results []generated
	runSDK(t, "generate", requests, &results)
	if len(results) != len(requests) {
		t.Fatalf("the SDK answered %d of %d requests", len(results), len(requests))
	}
	return results
}

// A confirmRequest asks the SDK to confirm one signature.
type confirmRequest struct {
	PartnerID string `json:"partner_id"`
	APIKey    string `json:"api_key"`
	Timestamp string `json:"timestamp"`
	Signature string `json:"signature"`
}

// A verdict of the SDK's confirm_signature. Error is the exception it threw,
// if any.
type verdict struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

func (v verdict) String() string {
	if v.Error != "" {
		return fmt.Sprintf("threw %s", v.Error)
	}
	return fmt.Sprintf("ok=%v", v.OK)
}

// confirm has the SDK confirm each request, in one node process.
func confirm(t testing.TB, requests []confirmRequest) []verdict {
	t.Helper()
	var results []verdict
	runSDK(t, "confirm", requests, &results)
	if len(results) != len(requests) {
		t.Fatalf("the SDK answered %d of %d requests", len(results), len(requests))
	}
	return results
}
