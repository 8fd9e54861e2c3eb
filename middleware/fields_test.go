package middleware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/jsonobj"
)

func TestFindFields(t *testing.T) {
	type fieldsCase struct {
		name          string
		body          string
		wantSignature string // raw, quotes included
		wantTimestamp string
		err           error
	}
	const ok = `"signature":"s","timestamp":"t"`
	tests := []fieldsCase{
		{"both once", `{` + ok + `}`, `"s"`, `"t"`, nil},
		{"escaped names are the names", `{"sig\u006eature":"s","\u0074imestamp":"t"}`, `"s"`, `"t"`, nil},
		{"nested case variants are ignored", `{` + ok + `,"p":{"Signature":"x","TIMESTAMP":"y"}}`, `"s"`, `"t"`, nil},
		{"case variants of other names are ignored", `{` + ok + `,"Signatures":1,"TIMESTAMP_":2,"Source":3,"SmileJobID":4,"signatur":5}`, `"s"`, `"t"`, nil},
		{"the Kelvin sign folds with k, in neither name", `{` + ok + `,"\u212aignature":1,"time\u212atamp":2}`, `"s"`, `"t"`, nil},
		{"dotless i does not fold with i", `{` + ok + `,"sıgnature":1,"tİmestamp":2}`, `"s"`, `"t"`, nil},
		{"invalid UTF-8 in a name is not a letter", "{" + ok + ",\"\xc5ignature\":1}", `"s"`, `"t"`, nil},

		{"a case variant after the names is refused", `{` + ok + `,"Signature":"AAAA"}`, "", "", errCaseVariant},
		{"a case variant before the names is refused", `{"Signature":"AAAA",` + ok + `}`, "", "", errCaseVariant},
		{"a case variant of any value is refused", `{` + ok + `,"TIMESTAMP":null}`, "", "", errCaseVariant},
		{"long s spelled in UTF-8", "{" + ok + ",\"\u017fignature\":\"x\"}", "", "", errCaseVariant},
		{"long s escaped", `{` + ok + `,"time\u017ftamp":"x"}`, "", "", errCaseVariant},
		{"an escaped capital", `{` + ok + `,"\u0053ignature":"x"}`, "", "", errCaseVariant},
		{"every letter escaped and capital", `{` + ok + `,"\u0054\u0049\u004d\u0045\u0053\u0054\u0041\u004d\u0050":"x"}`, "", "", errCaseVariant},

		// The answers table's order: the first row that applies answers.
		{"not an object comes first", `[{"Signature":"x"}]`, "", "", errNotObject},
		{"invalid JSON comes first", `{` + ok + `,"Signature":"x"`, "", "", errNotObject},
		{"a missing name comes before a case variant", `{"Signature":"s","timestamp":"t"}`, "", "", errMissingSignature},
		{"a missing timestamp too", `{"signature":"s","TimeStamp":"t"}`, "", "", errMissingTimestamp},
		{"a duplicate comes before a case variant", `{` + ok + `,"signature":"s","SIGNATURE":"x"}`, "", "", errDuplicateSignature},
		{"a duplicate timestamp too", `{` + ok + `,"timestamp":"t","Timestamp":"x"}`, "", "", errDuplicateTimestamp},
		{"a value not a string comes before a case variant", `{"signature":1,"timestamp":"t","Signature":"x"}`, "", "", errSignatureNotString},
		{"a timestamp not a string too", `{"signature":"s","timestamp":[],"Signature":"x"}`, "", "", errTimestampNotString},
	}
	// Each letter of each name in upper case, plainly and escaped.
	for _, name := range []string{"signature", "timestamp"} {
		for i := range name {
			upper := name[:i] + strings.ToUpper(name[i:i+1]) + name[i+1:]
			escaped := name[:i] + fmt.Sprintf(`\u%04X`, name[i]-'a'+'A') + name[i+1:]
			tests = append(tests,
				fieldsCase{upper, `{` + ok + `,"` + upper + `":"x"}`, "", "", errCaseVariant},
				fieldsCase{escaped, `{` + ok + `,"` + escaped + `":"x"}`, "", "", errCaseVariant})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, ts, err := findFields([]byte(tt.body))
			if tt.err != nil {
				require.Equal(t, tt.err, err)
				assert.Nil(t, sig)
				assert.Nil(t, ts)
				assert.ErrorIs(t, err, ErrMalformedCallback)
				assert.Equal(t, 400, StatusCode(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantSignature, string(sig))
			assert.Equal(t, tt.wantTimestamp, string(ts))
			// A handler that decodes into a struct reads the same.
			var h handlerFields
			require.NoError(t, json.Unmarshal([]byte(tt.body), &h))
			assert.Equal(t, tt.wantSignature, `"`+h.Signature+`"`)
			assert.Equal(t, tt.wantTimestamp, `"`+h.Timestamp+`"`)
		})
	}
}

// handlerFields is how a handler reads a callback's signature and
// timestamp: encoding/json matches member names to these fields exactly,
// then case-insensitively.
type handlerFields struct {
	Signature string `json:"signature"`
	Timestamp string `json:"timestamp"`
}

// topLevel decodes the top-level members of an object with encoding/json's
// tokenizer, keeping duplicates: the reference findFields is held to.
func topLevel(body []byte) (members map[string][]json.RawMessage, ok bool) {
	if !json.Valid(body) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	members = map[string][]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, false
		}
		key := tok.(string)
		members[key] = append(members[key], value)
	}
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return members, true
}

// referenceReason is the answers table's first row that applies to an
// object with these top-level members, nil if none: missing, duplicate or
// non-string signature or timestamp, then a member named like either in
// another case, as bytes.EqualFold (which encoding/json's struct field
// matching equals) compares.
func referenceReason(members map[string][]json.RawMessage) error {
	sigs, tss := members["signature"], members["timestamp"]
	switch {
	case len(sigs) == 0:
		return errMissingSignature
	case len(tss) == 0:
		return errMissingTimestamp
	case len(sigs) > 1:
		return errDuplicateSignature
	case len(tss) > 1:
		return errDuplicateTimestamp
	case sigs[0][0] != '"':
		return errSignatureNotString
	case tss[0][0] != '"':
		return errTimestampNotString
	}
	for key := range members {
		if key != "signature" && key != "timestamp" &&
			(bytes.EqualFold([]byte(key), []byte("signature")) || bytes.EqualFold([]byte(key), []byte("timestamp"))) {
			return errCaseVariant
		}
	}
	return nil
}

// FuzzFindFields holds findFields to encoding/json twice over. By the
// tokenizer: the same verdict on validity and objecthood, the answers
// table's reason for the top-level members it sees, and the same two
// values. By a handler's struct decode: whenever findFields accepts, the
// struct holds exactly the values findFields found.
//
// testdata/fuzz/FuzzFindFields holds the inputs that once failed:
// 1b804276073cabfd has a member "TimeStAmp" beside the exact names, which
// findFields accepted before it refused case variants (issue 12).
func FuzzFindFields(f *testing.F) {
	const ok = `"signature":"s","timestamp":"t"`
	for _, seed := range []string{
		// The accepted shape, bare and as Smile ID sends it: nested
		// objects, numbers, names that start like the two.
		`{` + ok + `}`,
		`{"SmileJobID":"0000012345","PartnerParams":{"job_id":"j","job_type":5},"ResultCode":"1012","Source":"NIMC",` +
			`"signature":"XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=","timestamp":"2026-11-21T10:00:00.000Z"}`,
		// Escaped names are the names; nested ones are not.
		`{"sig\u006eature":"s","\u0074imestamp":"t","p":{"signature":"n","timestamp":1}}`,
		// Each reason of the first 400 row.
		`{"timestamp":"t"}`,
		`{"signature":"s"}`,
		`{"signature":"s","signature":"s2","timestamp":"t"}`,
		`{` + ok + `,"time\u0073tamp":"t2"}`,
		`{"signature":null,"timestamp":"t"}`,
		`{"signature":"s","timestamp":2026}`,
		// Names a byte away from a case variant (the bug of issue 12 was
		// one): a capital in place of the exact name; beside the exact
		// names, capitals a letter short or one byte too many, plainly
		// and escaped, one level down; ſ and K alone, ſ escaped and a
		// letter short, a dotless ı.
		`{"Signature":"s","timestamp":"t"}`,
		`{` + ok + `,"Signatur":0}`,
		`{` + ok + `,"TIMESTAMPS":0,"Signatory":1}`,
		`{` + ok + `,"SignatureS":0}`,
		`{` + ok + `,"_TimeStamp":0}`,
		`{` + ok + `,"sig-Nature":0}`,
		`{` + ok + `,"\u0053ignaturee":0}`,
		`{` + ok + `,"p":{"Signature":0}}`,
		"{" + ok + ",\"\u017f\":1,\"\u212a\":2,\"sıgnature\":3}",
		`{` + ok + `,"\u017fignatur":1}`,
		// Escapes and UTF-8 in the values: a surrogate pair, a lone
		// surrogate, every short escape, an invalid byte.
		`{"signature":"\ud83d\ude00\ud800","timestamp":"\u0032026\"\\\/\b\f\n\r\t"}`,
		"{\"signature\":\"\xff\xc5\xbf\",\"timestamp\":\"é\"}",
		// Numbers of every shape and the literals beside the names, then
		// an invalid number, a bad escape, a control byte, a cut.
		`{` + ok + `,"n":[-0,1.5e+10,0.25E-3,123],"l":[true,false,null]}`,
		`{` + ok + `,"n":01}`,
		`{` + ok + `,"e":"\x"}`,
		"{" + ok + ",\"c\":\"\x1f\"}",
		`{"signature":"s","timestamp":"t`,
		// Invalid nested values: trailing commas, a member without a
		// value, a bad literal, a bad \u, a bare dot and exponent,
		// mismatched brackets; a missing comma and colon at top level.
		`{` + ok + `,"a":[1,]}`,
		`{` + ok + `,"a":{"b":1,}}`,
		`{` + ok + `,"b":{"c"}}`,
		`{` + ok + `,"d":nul}`,
		`{` + ok + `,"e":"\uZZZZ"}`,
		`{` + ok + `,"n":[1.,1e]}`,
		`{` + ok + `,"a":[{"b":1}}`,
		`{` + ok + ` "x":1}`,
		`{"signature" "s"}`,
		`{}`,
		// Depth: nested containers, arrays and objects, with the names
		// inside. (Long seeds cost up to a minute of minimising whenever
		// a mutant of them is new: the 10000-level limit is TestScan's.)
		`{` + ok + `,"a":[[[{"b":[{}]}]]],"c":[{"signature":[{"timestamp":{}}]}]}`,
		// Not one object: an array, a string, a byte order mark, trailing
		// data, a trailing comma, nothing.
		`[{` + ok + `}]`,
		`"signature"`,
		"\xef\xbb\xbf{" + ok + "}",
		`{` + ok + `} x`,
		`{` + ok + `,}`,
		` `,
		// Whitespace everywhere JSON allows it.
		" \t\r\n{ \"signature\" :\n\"s\" , \"timestamp\":\"t\" } \n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sig, ts, err := findFields(body)
		members, isObject := topLevel(body)
		if !isObject {
			if err != errNotObject {
				t.Fatalf("findFields err %v for what encoding/json does not decode as an object: %q", err, body)
			}
			return
		}
		if want := referenceReason(members); err != want {
			t.Fatalf("findFields err %v, the reference says %v: %q", err, want, body)
		}
		if err != nil {
			return
		}
		sigs, tss := members["signature"], members["timestamp"]
		var wantSig, wantTS string
		if json.Unmarshal(sigs[0], &wantSig) != nil || json.Unmarshal(tss[0], &wantTS) != nil {
			t.Fatalf("reference cannot decode %q %q", sigs[0], tss[0])
		}
		gotSig, _ := jsonobj.Unquote(sig)
		gotTS, _ := jsonobj.Unquote(ts)
		if gotSig != wantSig || gotTS != wantTS {
			t.Fatalf("got (%q, %q), encoding/json (%q, %q)", gotSig, gotTS, wantSig, wantTS)
		}
		var h handlerFields
		if err := json.Unmarshal(body, &h); err != nil {
			t.Fatalf("accepted a body a handler cannot decode: %v", err)
		}
		if h.Signature != gotSig || h.Timestamp != gotTS {
			t.Fatalf("accepted (%q, %q), a handler reads (%q, %q): %q", gotSig, gotTS, h.Signature, h.Timestamp, body)
		}
	})
}

// TestFieldsOracles keeps FuzzFindFields' references honest: they see what
// they should.
func TestFieldsOracles(t *testing.T) {
	members, ok := topLevel([]byte(`{"Signature":1,"signature":"s","timestamp":"t","p":{"TIMESTAMP":2}}`))
	require.True(t, ok)
	assert.Equal(t, errCaseVariant, referenceReason(members))
	members, ok = topLevel([]byte("{\"signature\":\"s\",\"timestamp\":\"t\",\"\u017fignature\":1}"))
	require.True(t, ok)
	assert.Equal(t, errCaseVariant, referenceReason(members), "bytes.EqualFold folds ſ with s")
	members, ok = topLevel([]byte(`{"signature":"s","timestamp":"t","\u212aignature":1}`))
	require.True(t, ok)
	assert.NoError(t, referenceReason(members))
	_, ok = topLevel([]byte(`{"signature":"s"} {}`))
	assert.False(t, ok)
	var h handlerFields
	require.NoError(t, json.Unmarshal([]byte(`{"signature":"s","\u017fIGNATURE":"x"}`), &h))
	assert.Equal(t, "x", h.Signature, "a handler's struct takes a case variant, which is why findFields refuses them")
}
