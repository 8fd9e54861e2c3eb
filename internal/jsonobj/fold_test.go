package jsonobj

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceNameOf classifies a raw key the way encoding/json matches it to
// struct fields: decode it, then compare exactly, then with
// bytes.EqualFold, which encoding/json's foldName is documented to equal.
func referenceNameOf(t testing.TB, raw []byte) signedName {
	key, ok := Unquote(raw)
	require.True(t, ok, "%q", raw)
	switch {
	case key == "signature":
		return signatureName
	case key == "timestamp":
		return timestampName
	case bytes.EqualFold([]byte(key), []byte("signature")), bytes.EqualFold([]byte(key), []byte("timestamp")):
		return caseVariant
	}
	return otherName
}

func TestNameOf(t *testing.T) {
	type nameCase struct {
		raw  string
		want signedName
	}
	tests := []nameCase{
		{`"signature"`, signatureName},
		{`"timestamp"`, timestampName},
		{`"sig\u006eature"`, signatureName},
		{`"\u0074\u0069\u006d\u0065\u0073\u0074\u0061\u006d\u0070"`, timestampName},
		{`"SIGNATURE"`, caseVariant},
		{`"TimeStamp"`, caseVariant},
		{`"\u0053ignature"`, caseVariant},
		{`"sig\u004Eature"`, caseVariant},
		{`"\u0054\u0049\u004d\u0045\u0053\u0054\u0041\u004d\u0050"`, caseVariant},
		{"\"\u017fignature\"", caseVariant}, // ſ folds with s
		{"\"time\u017ftamp\"", caseVariant},
		{`"\u017fignature"`, caseVariant},
		{`"TIME\u017FTAMP"`, caseVariant},
		{`"\u017F\u0049GNATURE"`, caseVariant},
		{"\"\u017f\u017fignature\"", otherName}, // one rune too many
		{"\"sıgnature\"", otherName},            // dotless ı U+0131 does not fold with i
		{"\"sİgnature\"", otherName},            // nor does İ U+0130
		{"\"\u212aignature\"", otherName},       // the Kelvin sign folds with k only
		{"\"\xc5ignature\"", otherName},         // invalid UTF-8 is U+FFFD
		{"\"\xc5\xbfignatur\xc5\"", otherName},
		{`"signatures"`, otherName},
		{`"Signatur"`, otherName},
		{`"signature\u0000"`, otherName},
		{`"ſignatur"`, otherName},
		{`"\"ignature"`, otherName},
		{`"Source"`, otherName},
		{`"SmileJobID"`, otherName},
		{`"\u0073\u0069\u0067\u006e\u0061\u0074\u0075\u0072\u0065\u0020"`, otherName},
		{`""`, otherName},
	}
	// Each letter of each name in upper case, plainly and escaped.
	for _, name := range []string{"signature", "timestamp"} {
		for i := range name {
			upper := name[:i] + strings.ToUpper(name[i:i+1]) + name[i+1:]
			escaped := name[:i] + fmt.Sprintf(`\u%04X`, name[i]-'a'+'A') + name[i+1:]
			tests = append(tests, nameCase{`"` + upper + `"`, caseVariant}, nameCase{`"` + escaped + `"`, caseVariant})
		}
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			require.Equal(t, tt.want, referenceNameOf(t, []byte(tt.raw)), "the test's expectation disagrees with the reference")
			assert.Equal(t, tt.want, nameOf([]byte(tt.raw)))
		})
	}
}

// TestEqualFoldEveryRune holds equalFold to bytes.EqualFold for every rune
// that has a case fold, written plainly and (in the BMP) escaped, against
// every letter of the two names and k, whose fold orbit holds the Kelvin
// sign.
func TestEqualFoldEveryRune(t *testing.T) {
	const letters = "signaturempk"
	var plainBuf [utf8.UTFMax]byte
	escaped := []byte(`\u0000`)
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r > 0x1ffff {
			// Unicode has no case beyond plane 1, which keeps this test
			// quick under the race detector; should that change, say so.
			if unicode.SimpleFold(r) != r {
				t.Fatalf("%U has a case fold: widen the range", r)
			}
			continue
		}
		key := string(r) // as encoding/json decodes it: a surrogate is U+FFFD
		plain := utf8.AppendRune(plainBuf[:0], r)
		const hex = "0123456789abcdef"
		escaped[2], escaped[3], escaped[4], escaped[5] = hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15]
		for i := range len(letters) {
			name := letters[i : i+1]
			wantExact, wantFolded := key == name, bytes.EqualFold([]byte(key), []byte(name))
			if r >= 0x20 && r != '"' && r != '\\' { // may stand unescaped
				if exact, folded := equalFold(plain, name); exact != wantExact || folded != wantFolded {
					t.Fatalf("equalFold(%q, %q) = %v, %v", plain, name, exact, folded)
				}
			}
			if r > 0xffff {
				continue
			}
			if exact, folded := equalFold(escaped, name); exact != wantExact || folded != wantFolded {
				t.Fatalf("equalFold(%q, %q) = %v, %v", escaped, name, exact, folded)
			}
		}
	}
}

func TestNameOfDoesNotAllocate(t *testing.T) {
	raws := [][]byte{[]byte(`"signature"`), []byte(`"Signature"`), []byte(`"\u017fignature"`), []byte(`"Source"`)}
	allocs := testing.AllocsPerRun(100, func() {
		for _, raw := range raws {
			nameOf(raw)
		}
	})
	assert.Zero(t, allocs)
}
