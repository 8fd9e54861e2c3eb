package explain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// members is what scanMembers found at the top level of a body.
type members struct {
	signature, timestamp string
	problem              string // why the Guard would refuse the body, "" if it would not
}

// scanMembers reads a body-signed callback's top-level members as the
// Guard does: one JSON object, "signature" and "timestamp" present once
// each as strings, and no member named like them in another case.
func scanMembers(body []byte) members {
	var m members
	if problem := objectProblem(body); problem != "" {
		m.problem = problem
		return m
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.Token() // {
	var sigs, stamps int
	var sigRaw, stampRaw json.RawMessage
	var variants []string
	for dec.More() {
		tok, _ := dec.Token()
		name, _ := tok.(string)
		var raw json.RawMessage
		dec.Decode(&raw)
		switch {
		case name == "signature":
			sigs++
			sigRaw = raw
		case name == "timestamp":
			stamps++
			stampRaw = raw
		case strings.EqualFold(name, "signature") || strings.EqualFold(name, "timestamp"):
			variants = append(variants, fmt.Sprintf("%q", name))
		}
	}
	switch {
	case sigs == 0:
		m.problem = `no top-level "signature" member (a v3 callback carries it in the Response-Signature header)`
	case stamps == 0:
		m.problem = `no top-level "timestamp" member`
	case sigs > 1:
		m.problem = `"signature" is present twice`
	case stamps > 1:
		m.problem = `"timestamp" is present twice`
	case json.Unmarshal(sigRaw, &m.signature) != nil:
		m.problem = `"signature" is not a string`
	case json.Unmarshal(stampRaw, &m.timestamp) != nil:
		m.problem = `"timestamp" is not a string`
	case len(variants) > 0:
		m.problem = "a member named like signature or timestamp in another case (" + strings.Join(variants, ", ") + ")"
	}
	return m
}

// objectProblem says why body is not exactly one JSON object, "" if it is.
func objectProblem(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return fmt.Sprintf("not valid JSON (at byte %d)", syntax.Offset)
		}
		return "not valid JSON"
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "more than one JSON value"
	}
	if trimmed := bytes.TrimLeft(v, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return "not a JSON object"
	}
	return ""
}
