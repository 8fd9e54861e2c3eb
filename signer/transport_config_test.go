package signer

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/syncbuf"
)

func TestTransportRefusesInvalidConfiguration(t *testing.T) {
	tests := []struct {
		name   string
		tr     Transport
		isKey  bool
		reason string
	}{
		{"zero value", Transport{}, true, "signer: Transport.Key.APIKey is empty"},
		{"empty APIKey", Transport{Key: Key{ID: "k", PartnerID: "1", Environment: Sandbox}}, true, "signer: Transport.Key.APIKey is empty"},
		{"empty PartnerID", Transport{Key: Key{ID: "k", APIKey: "s", Environment: Sandbox}}, true, "signer: Transport.Key.PartnerID is empty"},
		{"unknown Environment", Transport{Key: Key{ID: "k", PartnerID: "1", APIKey: "s", Environment: "live"}}, true,
			`signer: Transport.Key.Environment is neither "sandbox" nor "production"`},
		{"PartnerID with a line break", Transport{Key: Key{ID: "k", PartnerID: "1\r\nX: y", APIKey: "s", Environment: Sandbox}}, true,
			"signer: Transport.Key.PartnerID has a character other than printable ASCII"},
		{"Hosts entry with a scheme", Transport{Key: transportKey, Hosts: []string{"ok.test", "https://api.smileidentity.com"}}, false,
			"signer: Transport.Hosts[1] has a scheme"},
		{"empty Hosts entry", Transport{Key: transportKey, Hosts: []string{""}}, false, "signer: Transport.Hosts[0] is empty"},
		{"the other environment's host in Hosts", Transport{Key: transportKey, Hosts: []string{"smile.test", "API.smileidentity.com.:443"}}, false,
			"signer: Transport.Hosts[1] is the production Smile ID host, but Key.Environment is sandbox"},
		{"SourceSDK with a line break", Transport{Key: transportKey, SourceSDK: "go\n"}, false, "signer: Transport.SourceSDK has"},
		{"SourceSDKVersion not ASCII", Transport{Key: transportKey, SourceSDKVersion: "v1·0"}, false, "signer: Transport.SourceSDKVersion has"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := &stubTransport{}
			tr := tt.tr
			tr.Base = stub
			err := tr.Validate()
			require.ErrorIs(t, err, ErrInvalidTransport)
			assert.Equal(t, tt.isKey, errors.Is(err, ErrInvalidKey), "ErrInvalidKey exactly when Key is at fault")
			assert.True(t, strings.HasPrefix(err.Error(), tt.reason), err.Error())
			for _, u := range []string{"https://testapi.smileidentity.com/v2/x", "https://example.com/"} {
				req, body := newRequest(t, http.MethodPost, u, "{}")
				resp, rtErr := tr.RoundTrip(req)
				assert.Nil(t, resp)
				assert.Equal(t, err, rtErr, "RoundTrip reports what Validate does")
				assert.True(t, body.closed.Load())
			}
			assert.Empty(t, stub.Sent(), "fails closed: not even other hosts")
		})
	}

	t.Run("the zero Transport sends nothing", func(t *testing.T) {
		var tr Transport
		_, err := tr.RoundTrip(&http.Request{URL: &url.URL{Scheme: "https", Host: "example.com"}, Header: http.Header{}})
		assert.ErrorIs(t, err, ErrInvalidKey)
	})
}

// TestTransportConfigErrorsQuoteNoValue puts a secret-looking value in each
// field that can hold one and looks for it in the error.
func TestTransportConfigErrorsQuoteNoValue(t *testing.T) {
	const secret = "pasted-s3cret-4c1d"
	for name, tr := range map[string]Transport{
		"Environment":      {Key: Key{PartnerID: "1", APIKey: "k", Environment: secret}},
		"PartnerID":        {Key: Key{PartnerID: secret + "\n", APIKey: "k", Environment: Sandbox}},
		"APIKey":           {Key: Key{PartnerID: "1", APIKey: secret + " ", Environment: Sandbox}},
		"Hosts":            {Key: transportKey, Hosts: []string{"https://" + secret}},
		"Hosts, a path":    {Key: transportKey, Hosts: []string{"a.test/" + secret}},
		"SourceSDK":        {Key: transportKey, SourceSDK: secret + "\n"},
		"SourceSDKVersion": {Key: transportKey, SourceSDKVersion: secret + "\x00"},
	} {
		err := tr.Validate()
		require.ErrorIs(t, err, ErrInvalidTransport, name)
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), secret, name)
	}
}

func TestTransportValidate(t *testing.T) {
	tr := &Transport{Base: &stubTransport{}, Key: transportKey, Hosts: []string{"[::1]:8443", "smile.test"}}
	assert.NoError(t, tr.Validate())
	assert.NoError(t, tr.Validate(), "again")
	assert.NoError(t, (&Transport{Key: productionKey}).Validate(), "the defaults")
}

// TestTransportIsConfiguredOnce pins what the Transport's contract says:
// its configuration is derived on first use (Validate or RoundTrip), and
// fields changed after that have no effect.
func TestTransportIsConfiguredOnce(t *testing.T) {
	for _, first := range []string{"Validate", "RoundTrip"} {
		t.Run(first, func(t *testing.T) {
			stub := &stubTransport{}
			tr := &Transport{Base: stub, Key: transportKey, Now: tickingClock()}
			send := func() {
				req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/x", "")
				resp, err := tr.RoundTrip(req)
				require.NoError(t, err)
				resp.Body.Close()
			}
			if first == "Validate" {
				require.NoError(t, tr.Validate())
			} else {
				send()
			}
			tr.Key = Key{ID: "other", PartnerID: "2001", APIKey: "", Environment: Production}
			tr.Hosts = []string{"example.com"}
			tr.SourceSDK = "changed"
			assert.NoError(t, tr.Validate(), "an invalid Key set after first use is not looked at")
			send()
			sent := stub.Sent()
			last := sent[len(sent)-1]
			assert.Equal(t, "085", last.Header.Get("SmileID-Partner-ID"))
			assert.Equal(t, "smileguard-go", last.Header.Get("SmileID-Source-SDK"))
			assert.True(t, Verify(transportKey.APIKey, "085", last.Header.Get("SmileID-Timestamp"), last.Header.Get("SmileID-Request-Signature")))
		})
	}
}

// keyRecords returns the key review records logged to logs so far.
func keyRecords(logs *syncbuf.Buffer) []string {
	var out []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "smileguard: API key needs attention") {
			out = append(out, line)
		}
	}
	return out
}

func TestTransportLogsItsKeyOnceWhenDueForRotation(t *testing.T) {
	old := transportKey
	old.CreatedAt = transportTime.Add(-100 * 24 * time.Hour)
	var logs syncbuf.Buffer
	tr := &Transport{Base: &stubTransport{}, Key: old, Now: tickingClock(), Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	send := func() {
		req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/x", "")
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
	}

	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); send() }()
	}
	wg.Wait()
	send()
	assert.NoError(t, tr.Validate())
	records := keyRecords(&logs)
	require.Len(t, records, 1, "one record, concurrent first requests included")
	assert.Contains(t, records[0], `"level":"WARN"`)
	assert.Contains(t, records[0], `"key":{"id":"sandbox-t","environment":"sandbox","problem":"older than the rotation age","age_days":100}`)
	assert.NotContains(t, logs.String(), old.APIKey)
}

func TestTransportKeyReviewNeedsALoggerAndAReason(t *testing.T) {
	old := transportKey
	old.CreatedAt = transportTime.Add(-100 * 24 * time.Hour)
	expiring := transportKey
	expiring.NotAfter = transportTime.Add(24 * time.Hour)
	tests := []struct {
		name   string
		key    Key
		policy KeyPolicy
		logs   int
	}{
		{"old key", old, KeyPolicy{}, 1},
		{"expiring key", expiring, KeyPolicy{}, 1},
		{"healthy key", transportKey, KeyPolicy{}, 0},
		{"age check off", old, KeyPolicy{MaxAge: -1}, 0},
		{"longer rotation", old, KeyPolicy{MaxAge: 180 * 24 * time.Hour}, 0},
		{"invalid key: refused, not reviewed", Key{ID: "broken", PartnerID: "085", Environment: Sandbox, CreatedAt: old.CreatedAt}, KeyPolicy{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncbuf.Buffer
			tr := &Transport{Base: &stubTransport{}, Key: tt.key, Now: tickingClock(), KeyPolicy: tt.policy,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/x", "")
			if resp, err := tr.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
			assert.Len(t, keyRecords(&logs), tt.logs)
		})
	}

	// No logger: nothing to log to, and nothing fails.
	tr := &Transport{Base: &stubTransport{}, Key: old, Now: tickingClock()}
	req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/x", "")
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
}

// TestTransportInUsePrintsNoAPIKey prints a Transport that has derived its
// state, holds a token and logs, by pointer and by value, with every verb
// and both slog handlers, and looks for the API key and the token.
func TestTransportInUsePrintsNoAPIKey(t *testing.T) {
	old := transportKey
	old.CreatedAt = transportTime.Add(-100 * 24 * time.Hour) // reviewed and logged on first use
	var logs syncbuf.Buffer
	// The stub records what it was sent, the key included: as a func it
	// prints as an address, and only the Transport is looked into.
	base := roundTripFunc((&stubTransport{}).RoundTrip)
	tr := &Transport{Base: base, Key: old, Now: tickingClock(), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	for _, path := range []string{"/v2/x", "/v3/x"} {
		req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com"+path, "")
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
	}

	// By value, fmt does not call Format: it walks the fields itself, and
	// follows a pointer printed with a verb pointers do not take. The
	// copies are made by reflection: go vet refuses a struct with an
	// atomic.Value copied in plain code, as users' code would be.
	byValue := reflect.ValueOf(tr).Elem().Interface()
	holder := reflect.New(reflect.StructOf([]reflect.StructField{{Name: "T", Type: reflect.TypeOf(*tr)}})).Elem()
	holder.Field(0).Set(reflect.ValueOf(tr).Elem())
	inStruct := holder.Interface()
	client := &http.Client{Transport: tr}
	secrets := []string{old.APIKey, fmt.Sprintf("%x", old.APIKey)[:16], stubToken}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10v", "%T %v"} {
		for what, v := range map[string]any{"the Transport": tr, "an http.Client": client, "the Transport by value": byValue,
			"a struct holding the Transport": inStruct} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range secrets {
				assert.NotContains(t, out, secret, "%s, %s", what, verb)
			}
		}
	}
	assert.Equal(t, `&signer.Transport{Key: signer.Key{ID: "sandbox-t", PartnerID: "085", Environment: "sandbox", APIKey: [REDACTED], `+
		`CreatedAt: 2026-08-13T10:00:00Z}, Hosts: [], SourceSDK: "", SourceSDKVersion: "", VerifyResponses: false}`, fmt.Sprint(tr))
	slog.New(slog.NewTextHandler(&logs, nil)).Info("configured", "transport", tr, "by_value", byValue, "holder", inStruct)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("configured", "transport", tr, "by_value", byValue, "holder", inStruct)
	require.Len(t, keyRecords(&logs), 1, "the logs hold the review")
	for _, secret := range secrets {
		assert.NotContains(t, logs.String(), secret)
	}
	assert.Equal(t, "<nil>", fmt.Sprint((*Transport)(nil)))

	// As the Key doc says: in an unexported field, by value, fmt may not
	// call Key's methods, and the APIKey shows; behind a pointer printed
	// with %v, only an address does.
	type app struct {
		tr Transport
		pt *Transport
	}
	held := app{tr: Transport{Key: old}, pt: tr}
	assert.Contains(t, fmt.Sprintf("%v", held), old.APIKey)
	assert.NotContains(t, fmt.Sprintf("%v", app{pt: tr}), old.APIKey)
}
