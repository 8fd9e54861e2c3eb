package middleware

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/smileguard/smileguard/internal/jsonobj"
)

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

// FuzzFindFields holds findFields to encoding/json: the same verdict on
// validity and objecthood, and whenever encoding/json sees exactly one
// top-level string "signature" and "timestamp", the same two values.
func FuzzFindFields(f *testing.F) {
	for _, seed := range []string{
		`{"signature":"s","timestamp":"t"}`,
		`{"sig\u006eature":"s","timestamp":"t","p":{"signature":"n"}}`,
		`{"signature":"s","signature":"s2","timestamp":"t"}`,
		`{"signature":null,"timestamp":"t"}`,
		`{"signature":"\ud83d\ude00","timestamp":"\u0032026"}`,
		"{\"signature\":\"\xff\",\"timestamp\":\"t\"}",
		`[{"signature":"s","timestamp":"t"}]`,
		`{"signature":"s","timestamp":"t"} x`,
		`{"Signature":"s","timestamp":"t"}`,
		"\xef\xbb\xbf{}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sig, ts, err := findFields(body)
		members, isObject := topLevel(body)
		if !isObject {
			if err == nil {
				t.Fatalf("accepted what encoding/json does not decode as an object: %q", body)
			}
			if !errors.Is(err, errNotObject) {
				t.Fatalf("error %v for a non-object", err)
			}
			return
		}
		sigs, tss := members["signature"], members["timestamp"]
		unambiguous := len(sigs) == 1 && len(tss) == 1 && sigs[0][0] == '"' && tss[0][0] == '"'
		if unambiguous != (err == nil) {
			t.Fatalf("findFields err %v, encoding/json signatures %q timestamps %q", err, sigs, tss)
		}
		if err != nil {
			return
		}
		var wantSig, wantTS, gotSig, gotTS string
		if json.Unmarshal(sigs[0], &wantSig) != nil || json.Unmarshal(tss[0], &wantTS) != nil {
			t.Fatalf("reference cannot decode %q %q", sigs[0], tss[0])
		}
		gotSig, _ = jsonobj.Unquote(sig)
		gotTS, _ = jsonobj.Unquote(ts)
		if gotSig != wantSig || gotTS != wantTS {
			t.Fatalf("got (%q, %q), encoding/json (%q, %q)", gotSig, gotTS, wantSig, wantTS)
		}
	})
}
