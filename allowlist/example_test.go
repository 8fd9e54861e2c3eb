package allowlist_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"

	"github.com/smileguard/smileguard/allowlist"
)

// A callback endpoint behind a load balancer in 10.0.0.0/8 that appends the
// address it sees to X-Forwarded-For. The server receives callbacks from
// both Smile ID environments, so it allows both sets.
func ExampleAllowlist_Handler() {
	al, err := allowlist.New(allowlist.Config{
		Allow:          []allowlist.Set{allowlist.SmileIDProduction, allowlist.SmileIDSandbox},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Header:         "X-Forwarded-For",
	})
	if err != nil {
		log.Fatal(err)
	}
	callback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, _ := allowlist.FromContext(r.Context())
		fmt.Fprintf(w, "callback from %s (%s)", d.ClientIP, d.Set)
	})
	h := al.Handler(callback)

	for _, xff := range []string{
		"52.213.46.74",               // Smile ID production, as the load balancer saw it
		"52.213.46.74, 203.0.113.9",  // someone else, pretending to be Smile ID
		"99.81.237.141, 10.20.30.40", // Smile ID sandbox through two load balancers
	} {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", nil)
		r.RemoteAddr = "10.0.0.7:51234" // the load balancer
		r.Header.Set("X-Forwarded-For", xff)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 callback from 52.213.46.74 (production)
	// 403 allowlist: forbidden
	// 200 callback from 99.81.237.141 (sandbox)
}

// Check decides without answering, for frameworks with their own way of
// refusing a request.
func ExampleAllowlist_Check() {
	al, err := allowlist.New(allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}})
	if err != nil {
		log.Fatal(err)
	}
	for _, peer := range []string{"52.213.46.74:443", "203.0.113.9:443", "@"} {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", nil)
		r.RemoteAddr = peer
		d, err := al.Check(r)
		fmt.Printf("%q: %v %q %v\n", peer, d.ClientIP, d.Set, err)
	}
	// Output:
	// "52.213.46.74:443": 52.213.46.74 "production" <nil>
	// "203.0.113.9:443": 203.0.113.9 "" allowlist: client IP not in any allowed set
	// "@": invalid IP "" allowlist: unparseable peer address
}

// A custom Denied handler learns why through Reason.
func ExampleReason() {
	al, err := allowlist.New(allowlist.Config{
		Allow:          []allowlist.Set{allowlist.SmileIDProduction},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Header:         "Forwarded",
		Denied: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			status := http.StatusForbidden
			if errors.Is(allowlist.Reason(r), allowlist.ErrBadHeader) {
				status = http.StatusBadRequest
			}
			http.Error(w, http.StatusText(status), status)
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, forwarded := range []string{`for="[2001:db8::1]:4711"`, "for=unknown"} {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", nil)
		r.RemoteAddr = "10.0.0.7:51234"
		r.Header.Set("Forwarded", forwarded)
		w := httptest.NewRecorder()
		al.Handler(http.NotFoundHandler()).ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// 403
	// 400
}

func ExampleParseSet() {
	office, err := allowlist.ParseSet("office", "198.51.100.0/24", "2001:db8::/32", "::ffff:203.0.113.7")
	fmt.Println(office.Name, office.Prefixes, err)

	_, err = allowlist.ParseSet("office", "198.51.100.1/24")
	fmt.Println(err)
	// Output:
	// office [198.51.100.0/24 2001:db8::/32 203.0.113.7/32] <nil>
	// allowlist: ParseSet "office": entry 0 "198.51.100.1/24": host bits set (did you mean 198.51.100.0/24?)
}
