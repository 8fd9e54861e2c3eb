package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzScan compares Scan, Unquote and KeyEquals with encoding/json: the same
// verdict on validity, the same members with the same raw values (last one
// wins, as in a map), the same decoded strings.
func FuzzScan(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"a":1}`, `{"signature":"s","timestamp":"t","p":{"signature":1}}`,
		`{"sig\u006eature":"x","signature":"y"}`, `{"a":"\ud83d\ude00\ud800"}`, "{\"a\":\"\xff\"}",
		`[1,2]`, `"x"`, `{"a":[{"b":[{}]}],"c":-1.5e3}`, `{"a":1,}`, ` {"a" : true } `, `{"a":01}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		got := map[string][]byte{}
		err := Scan(doc, func(m Member) error {
			key, ok := Unquote(m.Key(doc))
			if !ok {
				t.Fatalf("key %q is not a string token", m.Key(doc))
			}
			if !KeyEquals(m.Key(doc), key) && !bytes.Contains([]byte(key), []byte{'\\'}) && isASCII(key) {
				t.Fatalf("KeyEquals(%q, %q) = false", m.Key(doc), key)
			}
			if KeyEquals(m.Key(doc), "signature") != (key == "signature") {
				t.Fatalf("KeyEquals(%q, signature) disagrees with Unquote %q", m.Key(doc), key)
			}
			got[key] = m.Value(doc)
			return nil
		})
		valid := json.Valid(doc)
		if valid == errors.Is(err, ErrSyntax) {
			t.Fatalf("Scan err %v, json.Valid %v", err, valid)
		}
		if Valid(doc) != valid {
			t.Fatalf("Valid %v, json.Valid %v", !valid, valid)
		}
		var want map[string]json.RawMessage
		jerr := json.Unmarshal(doc, &want)
		if (jerr == nil) != (err == nil) {
			t.Fatalf("Scan err %v, json.Unmarshal err %v", err, jerr)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("members %d, encoding/json %d", len(got), len(want))
		}
		for k, v := range want {
			if !bytes.Equal(got[k], v) {
				t.Fatalf("member %q: %q, encoding/json %q", k, got[k], v)
			}
			var s string
			if json.Unmarshal(v, &s) == nil {
				if u, ok := Unquote(v); !ok || u != s {
					t.Fatalf("Unquote(%q) = %q, encoding/json %q", v, u, s)
				}
			}
		}
		out, err := Set(doc, StringField("signature", "sig"))
		if err != nil {
			t.Fatalf("Set: %v", err)
		}
		var after map[string]json.RawMessage
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("Set made invalid JSON %q: %v", out, err)
		}
		if string(after["signature"]) != `"sig"` || len(after) != len(want)+btoi(want["signature"] == nil) {
			t.Fatalf("Set(%q) = %q", doc, out)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
