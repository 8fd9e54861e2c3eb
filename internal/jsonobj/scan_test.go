package jsonobj

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func members(t *testing.T, doc string) (map[string]string, error) {
	t.Helper()
	got := map[string]string{}
	err := Scan([]byte(doc), func(m Member) error {
		key, ok := Unquote(m.Key([]byte(doc)))
		require.True(t, ok)
		got[key] = string(m.Value([]byte(doc)))
		return nil
	})
	return got, err
}

func TestScan(t *testing.T) {
	deep := strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth)
	tooDeep := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	tests := []struct {
		name string
		doc  string
		want map[string]string
		err  error
	}{
		{"empty object", `{}`, map[string]string{}, nil},
		{"members with their raw values", `{"a":1,"b":"x","c":[1,{"d":null}],"e":{"f":true}}`,
			map[string]string{"a": "1", "b": `"x"`, "c": `[1,{"d":null}]`, "e": `{"f":true}`}, nil},
		{"whitespace everywhere", " \t\r\n{ \"a\" :\n 1 , \"b\":[ ] } \n", map[string]string{"a": "1", "b": "[ ]"}, nil},
		{"escaped key is decoded", `{"sig\u006eature":"s"}`, map[string]string{"signature": `"s"`}, nil},
		{"nested members are not visited", `{"p":{"signature":"x"}}`, map[string]string{"p": `{"signature":"x"}`}, nil},
		{"numbers of every shape", `{"a":-0,"b":1.5e+10,"c":0.25E-3,"d":123}`,
			map[string]string{"a": "-0", "b": "1.5e+10", "c": "0.25E-3", "d": "123"}, nil},
		{"invalid UTF-8 is accepted like encoding/json", "{\"a\":\"\xff\"}", map[string]string{"a": "\"\xff\""}, nil},
		{"nesting at the limit", deep, nil, nil},
		{"nesting over the limit", tooDeep, nil, ErrSyntax},
		{"empty input", ``, nil, ErrSyntax},
		{"only whitespace", "  ", nil, ErrSyntax},
		{"array", `[1]`, nil, ErrNotObject},
		{"string", `"x"`, nil, ErrNotObject},
		{"null", `null`, nil, ErrNotObject},
		{"number", `12`, nil, ErrNotObject},
		{"invalid non-object", `[1,]`, nil, ErrSyntax},
		{"byte order mark", "\xef\xbb\xbf{}", nil, ErrSyntax},
		{"trailing data", `{} {}`, nil, ErrSyntax},
		{"trailing garbage", `{}x`, nil, ErrSyntax},
		{"unterminated", `{"a":1`, nil, ErrSyntax},
		{"trailing comma", `{"a":1,}`, nil, ErrSyntax},
		{"missing colon", `{"a" 1}`, nil, ErrSyntax},
		{"unquoted key", `{a:1}`, nil, ErrSyntax},
		{"single quotes", `{'a':1}`, nil, ErrSyntax},
		{"leading zero", `{"a":01}`, nil, ErrSyntax},
		{"bare dot", `{"a":1.}`, nil, ErrSyntax},
		{"bare exponent", `{"a":1e}`, nil, ErrSyntax},
		{"plus sign", `{"a":+1}`, nil, ErrSyntax},
		{"bad literal", `{"a":tru}`, nil, ErrSyntax},
		{"control character in string", "{\"a\":\"\x01\"}", nil, ErrSyntax},
		{"bad escape", `{"a":"\x"}`, nil, ErrSyntax},
		{"short unicode escape", `{"a":"\u12"}`, nil, ErrSyntax},
		{"mismatched brackets", `{"a":[1}`, nil, ErrSyntax},
		{"NUL after object", "{}\x00", nil, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := members(t, tt.doc)
			assert.Equal(t, json.Valid([]byte(tt.doc)), !errors.Is(err, ErrSyntax), "validity must match encoding/json")
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			if tt.want != nil {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestScanStopsAtVisitError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Scan([]byte(`{"a":1,"b":2}`), func(Member) error { n++; return stop })
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 1, n)
}

func TestValid(t *testing.T) {
	for _, doc := range []string{`1`, `[]`, `{}`, ` "x" `, `[1,[2,[3]]]`, `[`, `]`, `{"a"}`, `nul`, `[1 2]`, ``} {
		assert.Equal(t, json.Valid([]byte(doc)), Valid([]byte(doc)), doc)
	}
}

func TestKeyEqualsAndUnquote(t *testing.T) {
	tests := []struct {
		raw     string
		decoded string
	}{
		{`"signature"`, "signature"},
		{`"sig\u006eature"`, "signature"},
		{`"\u0073\u0069\u0067\u006e\u0061\u0074\u0075\u0072\u0065"`, "signature"},
		{`"Signature"`, "Signature"},
		{`"signature\u0000"`, "signature\x00"},
		{`"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\ud83dx"`, "\ufffdx"},
		{`"\ud83d\u0041"`, "\ufffdA"},
		{`"\ude00\ud83d"`, "\ufffd\ufffd"},
		{"\"\xff\"", "\ufffd"},
		{"\"é\"", "é"},
		{`"sig\u006eature\u00e9"`, "signatureé"},
		{"\"signatur\xe9\"", "signatur\ufffd"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			var want string
			require.NoError(t, json.Unmarshal([]byte(tt.raw), &want))
			require.Equal(t, tt.decoded, want, "the test's expectation disagrees with encoding/json")
			got, ok := Unquote([]byte(tt.raw))
			require.True(t, ok)
			assert.Equal(t, want, got)
			if !isASCII(want) {
				return // KeyEquals takes ASCII names only
			}
			assert.True(t, KeyEquals([]byte(tt.raw), want))
			assert.False(t, KeyEquals([]byte(tt.raw), want+"x"))
			if len(want) > 0 {
				assert.False(t, KeyEquals([]byte(tt.raw), want[:len(want)-1]))
			}
		})
	}
	_, ok := Unquote([]byte(`12`))
	assert.False(t, ok, "a number is not a string")
	assert.False(t, KeyEquals([]byte(`"`), ""))
}

func TestSet(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		fields []Field
		want   string
	}{
		{"appends absent fields in order", `{"a":1}`,
			[]Field{StringField("signature", "s"), StringField("timestamp", "t")}, `{"a":1,"signature":"s","timestamp":"t"}`},
		{"replaces in place and drops later duplicates", `{"signature":"old","a":1,"sig\u006eature":"older"}`,
			[]Field{StringField("signature", "new")}, `{"signature":"new","a":1}`},
		{"empty object", ` {} `, []Field{StringField("a", "b")}, `{"a":"b"}`},
		{"other members keep their bytes", `{"a" : [1, 2] ,"b":"\u00e9"}`, []Field{StringField("c", "x")},
			`{"a" : [1, 2],"b":"\u00e9","c":"x"}`},
		{"nested members are left alone", `{"p":{"signature":"x"}}`, []Field{StringField("signature", "y")},
			`{"p":{"signature":"x"},"signature":"y"}`},
		{"strings are escaped", `{}`, []Field{StringField("a", "\"<\n")}, `{"a":"\"\u003c\n"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := []byte(tt.doc)
			got, err := Set(doc, tt.fields...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			assert.Equal(t, tt.doc, string(doc), "input must not change")
		})
	}
	_, err := Set([]byte(`[1]`), StringField("a", "b"))
	require.ErrorIs(t, err, ErrNotObject)
	_, err = Set([]byte(`{`), StringField("a", "b"))
	require.ErrorIs(t, err, ErrSyntax)
}

func TestHasSpecial(t *testing.T) {
	// Every byte value in every position, against the byte table.
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			v := uint64(0)
			for i := 7; i >= 0; i-- {
				v = v<<8 | uint64(b[i])
			}
			assert.Equal(t, !plain[c], hasSpecial(v), "byte %#x at %d", c, pos)
		}
	}
	assert.False(t, hasSpecial(0x8080808080808080))
	assert.False(t, hasSpecial(0xffffffffffffffff))
}

func TestKeyEqualsNeverMatchesInvalidUTF8(t *testing.T) {
	// Invalid bytes decode to U+FFFD, never to the ASCII letter they sit
	// where: "signatur\xe5" is not "signature".
	for _, raw := range []string{"\"signatur\xe5\"", "\"\xf3ignature\"", "\"signature\xff\""} {
		assert.False(t, KeyEquals([]byte(raw), "signature"), "%q", raw)
	}
}
