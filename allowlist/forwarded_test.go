package allowlist

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func fwd(v ...string) map[string][]string { return map[string][]string{"Forwarded": v} }

func TestCheckForwarded(t *testing.T) {
	const F = "Forwarded"
	tests := []requestCase{
		requestCase{name: "for= behind trusted proxy is the client", remoteAddr: lb, headers: fwd("for=" + smile)}.want(admitted(smile, "production")),
		requestCase{name: "two trusted proxies are skipped", remoteAddr: lb, headers: fwd("for=6.6.6.6, for=52.213.46.74, for=10.1.2.3")}.want(admitted(smile, "production")),
		requestCase{name: "forged left element is not read", remoteAddr: lb, headers: fwd("for=52.213.46.74, for=6.6.6.6")}.want(notAllowed(evil)),
		requestCase{name: "last line is read first", remoteAddr: lb, headers: fwd("for=52.213.46.74", "for=6.6.6.6")}.want(notAllowed(evil)),
		requestCase{name: "earlier line is read once the last is all trusted", remoteAddr: lb, headers: fwd("for=52.213.46.74", `for="[fd00::1]:80"`)}.want(admitted(smile, "production")),
		requestCase{name: "spoofed Forwarded from untrusted peer is ignored", remoteAddr: evil + ":1", headers: fwd("for=" + smile)}.want(notAllowed(evil)),
		requestCase{name: "quoted IPv6 with brackets and port", remoteAddr: lb, headers: fwd(`for="[2001:db8:1::5]:4711"`)}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "quoted IPv6 with brackets", remoteAddr: lb, headers: fwd(`for="[2001:db8:1::5]"`)}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "quoted IPv4 with port", remoteAddr: lb, headers: fwd(`for="52.213.46.74:4711"`)}.want(admitted(smile, "production")),
		requestCase{name: "quoted IPv4", remoteAddr: lb, headers: fwd(`for="52.213.46.74"`)}.want(admitted(smile, "production")),
		requestCase{name: "unquoted port is not a token and is denied", remoteAddr: lb, headers: fwd("for=52.213.46.74:4711")}.want(denied(ErrBadHeader)),
		requestCase{name: "unquoted brackets are denied", remoteAddr: lb, headers: fwd("for=[2001:db8:1::5]")}.want(denied(ErrBadHeader)),
		requestCase{name: "IPv6 without brackets is denied", remoteAddr: lb, headers: fwd(`for="2001:db8:1::5"`)}.want(denied(ErrBadHeader)),
		requestCase{name: "parameter name is case-insensitive", remoteAddr: lb, headers: fwd("FOR=52.213.46.74")}.want(admitted(smile, "production")),
		requestCase{name: "by= and proto= before for=", remoteAddr: lb, headers: fwd("proto=https;by=10.0.0.7;for=52.213.46.74")}.want(admitted(smile, "production")),
		requestCase{name: "quoted by= around for=", remoteAddr: lb, headers: fwd(`by="[fd00::1]:443";for=52.213.46.74;proto=https;host="example.com"`)}.want(admitted(smile, "production")),
		requestCase{name: "extension parameters are ignored", remoteAddr: lb, headers: fwd("secret=x;for=52.213.46.74")}.want(admitted(smile, "production")),
		requestCase{name: "whitespace around semicolons and commas", remoteAddr: lb, headers: fwd("for=6.6.6.6 ,\tfor=52.213.46.74 ; proto=https , for=10.1.2.3")}.want(admitted(smile, "production")),
		requestCase{name: "empty pairs are allowed", remoteAddr: lb, headers: fwd(";;for=52.213.46.74;")}.want(admitted(smile, "production")),
		requestCase{name: "escapes in a quoted string are undone", remoteAddr: lb, headers: fwd(`for="52.213.46.\74"`)}.want(admitted(smile, "production")),
		requestCase{name: "escaped bracket in quoted IPv6", remoteAddr: lb, headers: fwd(`for="[2001:db8:1::5\]"`)}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "escaped quote and comma in an earlier element do not split it", remoteAddr: lb, headers: fwd(`for="6.6.6.6\", for=10.1.2.3", for=52.213.46.74`)}.want(admitted(smile, "production")),
		requestCase{name: "quoted comma inside the walked element is denied", remoteAddr: lb, headers: fwd(`for="52.213.46.74,10.1.2.3"`)}.want(denied(ErrBadHeader)),
		requestCase{name: "zone with %25 in quoted IPv6 is dropped", remoteAddr: lb, headers: fwd(`for="[2001:db8:1::5%25eth0]:80"`)}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "v4-mapped for= is unmapped", remoteAddr: lb, headers: fwd(`for="[::ffff:52.213.46.74]"`)}.want(admitted(smile, "production")),
		requestCase{name: "duplicate for= is denied", remoteAddr: lb, headers: fwd("for=52.213.46.74;for=6.6.6.6")}.want(denied(ErrBadHeader)),
		requestCase{name: "duplicate for= in another case is denied", remoteAddr: lb, headers: fwd("for=52.213.46.74;For=52.213.46.74")}.want(denied(ErrBadHeader)),
		requestCase{name: "element without for= is denied", remoteAddr: lb, headers: fwd("for=6.6.6.6, proto=https;by=10.0.0.7")}.want(denied(ErrBadHeader)),
		requestCase{name: "empty element is denied", remoteAddr: lb, headers: fwd("for=52.213.46.74,,for=10.1.2.3")}.want(denied(ErrBadHeader)),
		requestCase{name: "for=unknown is denied", remoteAddr: lb, headers: fwd("for=unknown")}.want(denied(ErrBadHeader)),
		requestCase{name: "obfuscated node is denied", remoteAddr: lb, headers: fwd("for=_hidden")}.want(denied(ErrBadHeader)),
		requestCase{name: "obfuscated port is denied", remoteAddr: lb, headers: fwd(`for="52.213.46.74:_port"`)}.want(denied(ErrBadHeader)),
		requestCase{name: "hostname is denied", remoteAddr: lb, headers: fwd("for=callbacks.smileidentity.com")}.want(denied(ErrBadHeader)),
		requestCase{name: "short IPv4 127.1 is denied", remoteAddr: lb, headers: fwd("for=127.1")}.want(denied(ErrBadHeader)),
		requestCase{name: "unspecified address is denied", remoteAddr: lb, headers: fwd("for=0.0.0.0")}.want(denied(ErrBadHeader)),
		requestCase{name: "empty value is denied", remoteAddr: lb, headers: fwd("for=")}.want(denied(ErrBadHeader)),
		requestCase{name: "empty quoted value is denied", remoteAddr: lb, headers: fwd(`for=""`)}.want(denied(ErrBadHeader)),
		requestCase{name: "missing parameter name is denied", remoteAddr: lb, headers: fwd("=52.213.46.74")}.want(denied(ErrBadHeader)),
		requestCase{name: "bad character in another parameter is denied", remoteAddr: lb, headers: fwd("for=52.213.46.74;proto=ht@tp")}.want(denied(ErrBadHeader)),
		requestCase{name: "text after a quoted value is denied", remoteAddr: lb, headers: fwd(`for="52.213.46.74"x`)}.want(denied(ErrBadHeader)),
		requestCase{name: "quote left open anywhere is denied", remoteAddr: lb, headers: fwd(`for="6.6.6.6, for=52.213.46.74`)}.want(denied(ErrBadHeader)),
		requestCase{name: "quote left open on an earlier line is denied", remoteAddr: lb, headers: fwd(`for=52.213.46.74;x="`, "for=6.6.6.6")}.want(denied(ErrBadHeader)),
		requestCase{name: "backslash outside quotes is denied", remoteAddr: lb, headers: fwd(`for=52.213.46.74\`)}.want(denied(ErrBadHeader)),
		requestCase{name: "NUL inside a quoted string is denied", remoteAddr: lb, headers: fwd("for=\"52.213.46.74\x00\"")}.want(denied(ErrBadHeader)),
		requestCase{name: "CR LF inside the value is denied", remoteAddr: lb, headers: fwd("for=52.213.46.74\r\n")}.want(denied(ErrBadHeader)),
		requestCase{name: "every element trusted is denied", remoteAddr: lb, headers: fwd("for=10.1.2.3, for=10.1.2.4")}.want(denied(ErrAllTrusted)),
		requestCase{name: "X-Forwarded-For is not a fall-back for Forwarded", remoteAddr: lb, headers: xff(smile)}.want(denied(ErrNoHeader)),
		requestCase{name: "more elements than MaxHops are denied", remoteAddr: lb, headers: fwd(strings.Repeat("for=6.6.6.6, ", 10) + "for=52.213.46.74")}.want(denied(ErrTooManyHops)),
		requestCase{name: "10,000 elements are too many hops", remoteAddr: lb, headers: fwd(strings.Repeat("for=10.1.2.3,", 9999) + "for=10.1.2.3")}.want(denied(ErrTooManyHops)),
	}
	for i := range tests {
		tests[i].header = F
	}
	runRequestCases(t, tests)
}

func TestCutLastElementMatchesLeftToRightSplit(t *testing.T) {
	for _, line := range []string{
		`for=a`,
		`for=a, for=b`,
		`for="a,b", for=c`,
		`for="a\",b", for=c`,
		`for="a\\", for=b`,
		`for="a\\\"", for=b, for="c\\\\"`,
		`for=a,,for=b,`,
		`,`,
		``,
	} {
		_, ok := countForwarded(line, 100)
		if !assert.True(t, ok, line) {
			continue
		}
		var got []string
		for rest, more := line, true; more; {
			var element string
			rest, element, more = cutLastElement(rest, strings.Contains(line, `"`))
			got = append([]string{element}, got...)
		}
		want, _ := referenceSplit(line, ',')
		assert.Equal(t, want, got, line)
	}
}
