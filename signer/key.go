package signer

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Key is one Smile ID API key with what is needed to use it: the partner id
// it signs for, its environment and its validity window.
//
// Key shows its APIKey as "[REDACTED]" wherever its own methods are
// called: by fmt with every verb ([Key.Format]), for a Key or a *Key and
// for one fmt reaches through exported fields, slices and maps; by
// [log/slog], whose handlers call [Key.LogValue]; and by encoding/json
// ([Key.MarshalJSON]). Where they cannot be called, the APIKey shows: fmt
// (and so slog's text handler) prints a Key in an unexported field of a
// struct field by field, since reflection may not call methods there, and
// printers that skip methods by design (go-spew as testify uses it in
// failure messages) do the same. Other encoders, such as encoding/xml and
// encoding/gob, write the APIKey: that is how a key is stored. So keep
// keys in a [Keyring] or a [Transport], or in exported fields, or give the
// struct that holds one a String and LogValue method of its own. No error
// of this package holds an APIKey.
type Key struct {
	ID          string      // label for logs and errors, never a secret. Empty: "<environment>-<position>" in the keyring
	PartnerID   string      // as a string, used as is: "085" is not "85"
	APIKey      string      // secret: redacted where Key prints itself (see above), never put in an error
	Environment Environment // Sandbox or Production
	NotBefore   time.Time   // zero: no lower bound
	NotAfter    time.Time   // zero: no upper bound (rotation: set it on the old key)

	// CreatedAt is when the key was issued in the Smile ID portal;
	// [Key.Review] reports a key older than [KeyPolicy.MaxAge]. Zero: unknown, and the
	// key's age is never reported. It does not affect verification.
	CreatedAt time.Time
}

const redacted = "[REDACTED]"

// UsableAt reports whether t is inside the key's validity window:
// NotBefore <= t < NotAfter, a zero bound being open.
func (k Key) UsableAt(t time.Time) bool {
	return (k.NotBefore.IsZero() || !t.Before(k.NotBefore)) &&
		(k.NotAfter.IsZero() || t.Before(k.NotAfter))
}

// String returns the key's fields with the API key redacted.
func (k Key) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "signer.Key{ID: %q, PartnerID: %q, Environment: %q, APIKey: %s", k.ID, k.PartnerID, string(k.Environment), redacted)
	if !k.CreatedAt.IsZero() {
		fmt.Fprintf(&b, ", CreatedAt: %s", k.CreatedAt.Format(time.RFC3339))
	}
	if !k.NotBefore.IsZero() {
		fmt.Fprintf(&b, ", NotBefore: %s", k.NotBefore.Format(time.RFC3339))
	}
	if !k.NotAfter.IsZero() {
		fmt.Fprintf(&b, ", NotAfter: %s", k.NotAfter.Format(time.RFC3339))
	}
	b.WriteString("}")
	return b.String()
}

// GoString returns the key as Go syntax with the API key redacted; %#v uses
// it.
func (k Key) GoString() string {
	return fmt.Sprintf("signer.Key{ID:%q, PartnerID:%q, APIKey:%q, Environment:%q, NotBefore:%#v, NotAfter:%#v, CreatedAt:%#v}",
		k.ID, k.PartnerID, redacted, string(k.Environment), k.NotBefore, k.NotAfter, k.CreatedAt)
}

// Format implements [fmt.Formatter] so that no verb, not even %d or %x, can
// reach the API key: %#v prints GoString, every other verb String.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, k.GoString())
		return
	}
	fmt.Fprint(f, k.String())
}

// LogValue implements [slog.LogValuer]: the key's ID, partner id, environment,
// creation time and validity window, never the API key.
func (k Key) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("id", k.ID),
		slog.String("partner_id", k.PartnerID),
		slog.String("environment", string(k.Environment)),
	}
	if !k.CreatedAt.IsZero() {
		attrs = append(attrs, slog.Time("created_at", k.CreatedAt))
	}
	if !k.NotBefore.IsZero() {
		attrs = append(attrs, slog.Time("not_before", k.NotBefore))
	}
	if !k.NotAfter.IsZero() {
		attrs = append(attrs, slog.Time("not_after", k.NotAfter))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON implements [json.Marshaler] with the API key redacted, so a key
// that ends up in a JSON log or an API response does not leak.
func (k Key) MarshalJSON() ([]byte, error) {
	type plain Key // no methods: no recursion
	p := plain(k)
	p.APIKey = redacted
	return json.Marshal(p)
}

// keyProblem is one reason a Key is unusable: the field at fault and what
// is wrong with it. It never holds a value: any field may hold a pasted
// secret.
type keyProblem struct {
	field  string // "APIKey", "PartnerID", "Environment" or "NotAfter"
	reason string // follows the field name: "is empty", ...
}

// problems returns every reason k is unusable, in field order.
func (k Key) problems() []keyProblem {
	var out []keyProblem
	switch {
	case k.APIKey == "":
		out = append(out, keyProblem{"APIKey", "is empty"})
	case strings.TrimSpace(k.APIKey) != k.APIKey:
		out = append(out, keyProblem{"APIKey", "has leading or trailing white space"})
	}
	switch {
	case k.PartnerID == "":
		out = append(out, keyProblem{"PartnerID", "is empty"})
	case strings.TrimSpace(k.PartnerID) != k.PartnerID:
		out = append(out, keyProblem{"PartnerID", "has leading or trailing white space"})
	}
	switch {
	case k.Environment.Valid():
	case k.Environment == "":
		out = append(out, keyProblem{"Environment", `is empty: it must be "sandbox" or "production"`})
	case strings.EqualFold(string(k.Environment), string(Sandbox)), strings.EqualFold(string(k.Environment), string(Production)):
		out = append(out, keyProblem{"Environment", `must be "sandbox" or "production", in lower case`})
	default:
		out = append(out, keyProblem{"Environment", `is neither "sandbox" nor "production"`})
	}
	if !k.NotBefore.IsZero() && !k.NotAfter.IsZero() && !k.NotAfter.After(k.NotBefore) {
		out = append(out, keyProblem{"NotAfter", "is not after NotBefore"})
	}
	return out
}

// validate checks one key, naming it by its ID and the field at fault in
// the error, never by a value.
func (k Key) validate() error {
	if p := k.problems(); len(p) > 0 {
		return k.invalid(p[0].field + " " + p[0].reason)
	}
	return nil
}

func (k Key) invalid(reason string) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidKey, k.ID, reason)
}
