package bench

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonOracle is what encoding/json makes of doc: whether it is an object
// with one top-level "signature" and one "timestamp", both strings, and no
// other member of either name but for case; and their values.
func jsonOracle(doc []byte) (signature, timestamp string, ok bool) {
	if !json.Valid(doc) {
		return "", "", false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", "", false
	}
	signatures, timestamps := 0, 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return "", "", false
		}
		into := (*string)(nil)
		switch {
		case key == "signature":
			signatures++
			into = &signature
		case key == "timestamp":
			timestamps++
			into = &timestamp
		case strings.EqualFold(key, "signature"), strings.EqualFold(key, "timestamp"):
			return "", "", false
		}
		if into == nil {
			continue
		}
		if raw[0] != '"' || json.Unmarshal(raw, into) != nil {
			return "", "", false
		}
		if bytes.IndexByte(raw, '\\') >= 0 && len(raw) > 6*64+2 {
			return "", "", false // the floor's bound on an escaped value
		}
	}
	return signature, timestamp, signatures == 1 && timestamps == 1
}

var floorScanCases = []struct {
	name string
	doc  string
}{
	{"a callback's shape", `{"ResultCode":"1012","PartnerParams":{"job_id":"j1","job_type":5},"signature":"c2ln","timestamp":"2026-11-21T10:00:00.000Z"}`},
	{"space everywhere it may be", " \t\r\n{ \"signature\" : \"s\" ,\n\"timestamp\"\t:\"t\" } \n"},
	{"nested members of the names do not count", `{"a":{"signature":"x","timestamp":"y"},"signature":"s","timestamp":"t"}`},
	{"escaped names are decoded", `{"sig\u006eature":"s","\u0074imestamp":"t"}`},
	{"escaped values are decoded", `{"signature":"a\/b\u002b","timestamp":"t\"1"}`},
	{"a duplicate is refused", `{"signature":"s","timestamp":"t","signature":"s"}`},
	{"a name but for case is refused", `{"signature":"s","timestamp":"t","TimeStamp":"x"}`},
	{"a name folded from the long s is refused", `{"signature":"s","timestamp":"t","ſignature":"x"}`},
	{"a missing member is refused", `{"signature":"s"}`},
	{"a number value is refused", `{"signature":1,"timestamp":"t"}`},
	{"a null value is refused", `{"signature":null,"timestamp":"t"}`},
	{"every kind of value", `{"signature":"s","timestamp":"t","v":[1,-0.5e+3,0E1,true,false,null,"",{},[],{"k":[{}]}]}`},
	{"a leading zero is invalid", `{"signature":"s","timestamp":"t","n":01}`},
	{"a fraction without digits is invalid", `{"signature":"s","timestamp":"t","n":1.}`},
	{"a bare minus is invalid", `{"signature":"s","timestamp":"t","n":-}`},
	{"a trailing comma is invalid", `{"signature":"s","timestamp":"t",}`},
	{"an array's trailing comma is invalid", `{"signature":"s","timestamp":"t","a":[1,]}`},
	{"a mismatched bracket is invalid", `{"signature":"s","timestamp":"t","a":[1}}`},
	{"a control character in a string is invalid", "{\"signature\":\"s\x01\",\"timestamp\":\"t\"}"},
	{"an unknown escape is invalid", `{"signature":"\x","timestamp":"t"}`},
	{"a short unicode escape is invalid", `{"signature":"\u12","timestamp":"t"}`},
	{"invalid UTF-8 in a string is let through, as encoding/json does", "{\"signature\":\"s\xff\",\"timestamp\":\"t\"}"},
	{"trailing data is invalid", `{"signature":"s","timestamp":"t"}{}`},
	{"a string at the top is not an object", `"signature"`},
	{"an empty document is invalid", ``},
	{"an unterminated string is invalid", `{"signature":"s","timestamp":"t","x":"abcdefghijklmnop`},
	{"a quote after eight plain bytes ends the string", `{"signature":"abcdefgh","timestamp":"abcdefghijklmnopq"}`},
	{"nesting to encoding/json's limit is valid", `{"signature":"s","timestamp":"t","a":` + strings.Repeat("[", floorMaxDepth-1) + strings.Repeat("]", floorMaxDepth-1) + `}`},
	{"nesting past it is invalid", `{"signature":"s","timestamp":"t","a":` + strings.Repeat("[", floorMaxDepth) + strings.Repeat("]", floorMaxDepth) + `}`},
}

// TestFloorScan checks floorScan against encoding/json on documents that
// each exercise one rule.
func TestFloorScan(t *testing.T) {
	for _, tc := range floorScanCases {
		t.Run(tc.name, func(t *testing.T) { checkFloorScan(t, []byte(tc.doc)) })
	}
}

func checkFloorScan(t *testing.T, doc []byte) {
	signature, timestamp, err := floorScan(doc)
	wantSignature, wantTimestamp, ok := jsonOracle(doc)
	if !ok {
		assert.Error(t, err, "admitted what encoding/json refuses")
		return
	}
	require.NoError(t, err, "refused what encoding/json admits")
	// Unescaped values come as they are: encoding/json makes each byte
	// of invalid UTF-8 a U+FFFD, which no signature or timestamp holds.
	assert.Equal(t, wantSignature, string([]rune(string(signature))))
	assert.Equal(t, wantTimestamp, string([]rune(string(timestamp))))
}

// FuzzFloorScan checks floorScan against encoding/json: it admits exactly
// the objects encoding/json finds one string signature and timestamp in,
// with nothing folding to either name, and reads the same values.
func FuzzFloorScan(f *testing.F) {
	for _, tc := range floorScanCases {
		f.Add([]byte(tc.doc)) // each rule of TestFloorScan
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkFloorScan(t, doc) })
}
