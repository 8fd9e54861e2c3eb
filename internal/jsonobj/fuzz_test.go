package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzScan compares Scan, Unquote, KeyEquals, FindSigned and Set with
// encoding/json: the same verdict on validity, the same members with the
// same raw values (last one wins, as in a map), the same decoded strings,
// and the same reading of each member name against "signature" and
// "timestamp", exactly and as encoding/json matches struct fields.
//
// testdata/fuzz/FuzzScan holds the inputs that once failed:
// ee83cee2216ed30b has a member "signAture", which FindSigned let pass
// before it counted case variants (issue 12).
func FuzzScan(f *testing.F) {
	for _, seed := range []string{
		// Objects: empty, one member, and Smile ID's shape with a nested
		// signature that must not count.
		`{}`,
		`{"a":1}`,
		`{"signature":"s","timestamp":"t","p":{"signature":1}}`,
		// Whitespace everywhere JSON allows it, and the one it does not.
		" \t\r\n{ \"a\" :\n true ,\"b\":[ 1 , 2 ] } \n",
		"{\"a\":1,\v\"b\":2}",
		// Member names: an escaped "signature" and a duplicate, every
		// short escape, a surrogate pair, lone and reversed surrogates,
		// \u0000, over 54 bytes of escapes (KeyEquals' bound).
		`{"sig\u006eature":"x","signature":"y"}`,
		`{"\"\\\/\b\f\n\r\t":1,"\ud83d\ude00":2,"\ud800":3,"\ude00\ud83d":4,"\ud83d\u0041":5,"\u0000":6}`,
		`{"\u0073\u0069\u0067\u006e\u0061\u0074\u0075\u0072\u0065\u0073\u0069\u0067":1}`,
		// Names a case away from the two: capitals, escaped capitals, ſ
		// (U+017F) raw and escaped, K (U+212A), dotless ı, one letter
		// long or short.
		`{"Signature":1,"TIMESTAMP":2,"\u0053ignature":3,"time\u017Ftamp":4,"Timestamps":5,"signatur":6}`,
		// Escaped names one character long or short, and with É, whose
		// fold walks its orbit.
		`{"\u0073ignaturee":1,"\u0073ignatur":2,"s\u00c9gnature":3}`,
		"{\"\u017fignature\":1,\"\u212aignature\":2,\"sıgnature\":3,\"\u017f\u017fignature\":4}",
		// Invalid UTF-8 in names and values: a lone lead byte where ſ
		// would be, a stray continuation byte, a truncated rune.
		"{\"\xc5ignature\":\"\xff\",\"\xbf\":\"\xe2\x84\"}",
		// Values: every literal, numbers of every shape, strings with
		// escapes and UTF-8 of every length.
		`{"a":[true,false,null],"b":[-0,0,1.5e+10,0.25E-3,123,-1e-7,1E5]}`,
		`{"a":"\u00e9é€😀","b":"\ud83d\ude00\ud800"}`,
		// Long plain string runs, which Scan skips eight bytes at a time,
		// with a quote, a backslash and a control byte near each end.
		`{"a":"` + strings.Repeat("QUJD", 9) + `\"` + strings.Repeat("QUJD", 3) + `"}`,
		"{\"a\":\"" + strings.Repeat("QUJD", 5) + "\x01\"}",
		// Depth: mixed containers, unbalanced ones, and one level past
		// the 256 kept inline. (Long seeds cost up to a minute of
		// minimising whenever a mutant of them is new: the 10000-level
		// limit is TestScan's.)
		`{"a":[{"b":[{}]}],"c":[[],{}]}`,
		`{"a":[{"b":[}]}`,
		`{"a":` + strings.Repeat("[", 257) + strings.Repeat("]", 257) + `}`,
		// Valid JSON that is not an object, and invalid JSON that is not.
		`[1,2]`, `"x"`, `-1.5`, `null`, `[1,]`,
		// Invalid objects: trailing comma, missing colon, bad numbers,
		// bad literal, bad escape, short \u, control byte, mismatched
		// brackets, unterminated.
		`{"a":1,}`, `{"a" 1}`, `{"a":01}`, `{"a":1.}`, `{"a":1e}`, `{"a":+1}`, `{"a":tru}`,
		`{"a":"\x"}`, `{"a":"\u12"}`, "{\"a\":\"\x1f\"}", `{"a":[1}`, `{"a":1`,
		// What may follow or precede the object: a byte order mark,
		// another object, garbage, a NUL.
		"\xef\xbb\xbf{}", `{} {}`, `{}x`, "{}\x00",
		// Nothing, and documents cut short in each kind of token.
		``, ` `, `{"a":`, `{"a":[`, `{"a":"abc`, `{"a":"\`, `{"a":"\u12`, `{"a":1.5e`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		got := map[string][]byte{}
		var names SignedMembers // what FindSigned must report, by the reference
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
			want := referenceNameOf(t, m.Key(doc))
			if name := nameOf(m.Key(doc)); name != want {
				t.Fatalf("nameOf(%q) = %d, encoding/json's matching %d", m.Key(doc), name, want)
			}
			switch want {
			case signatureName:
				names.Signatures++
				names.Signature = m.Value(doc)
			case timestampName:
				names.Timestamps++
				names.Timestamp = m.Value(doc)
			case caseVariant:
				names.CaseVariants++
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
		// Unmarshal takes null as "no map" without an error.
		if isObject := jerr == nil && want != nil; isObject != (err == nil) {
			t.Fatalf("Scan err %v, json.Unmarshal err %v, map %v", err, jerr, want)
		}
		found, ferr := FindSigned(doc)
		if !errors.Is(ferr, err) {
			t.Fatalf("FindSigned err %v, Scan err %v", ferr, err)
		}
		if err != nil {
			return
		}
		if found.Signatures != names.Signatures || found.Timestamps != names.Timestamps || found.CaseVariants != names.CaseVariants ||
			!bytes.Equal(found.Signature, names.Signature) || !bytes.Equal(found.Timestamp, names.Timestamp) {
			t.Fatalf("FindSigned = %+v, the reference %+v", found, names)
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
