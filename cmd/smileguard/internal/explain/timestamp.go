package explain

import (
	"regexp"
	"strconv"
	"time"

	"github.com/smileguard/smileguard/signer"
)

// styles tell which SDK writes a timestamp like it, first match wins.
var styles = []struct {
	re   *regexp.Regexp
	name string
}{
	{regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`),
		"yyyy-MM-dd'T'HH:mm:ss.fffZ, Smile ID's documented format (JavaScript toISOString, Java Instant with milliseconds)"},
	{regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`), "Python datetime.isoformat() in UTC"},
	{regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`), "PHP DATE_ATOM, or Python isoformat() on a whole second"},
	{regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6}|\.\d{9})?Z$`), "Java Instant.toString(), RFC 3339 in UTC"},
	{regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$`), "Ruby Time#to_s"},
	{regexp.MustCompile(`^\d{10}$`), "unix seconds (older clients)"},
	{regexp.MustCompile(`^\d{13}$`), "unix milliseconds (older clients)"},
	{regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?[+-]\d\d:\d\d$`), "RFC 3339 with a zone offset"},
	{regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$`), "RFC 3339 in UTC"},
}

// style names the SDK style of a timestamp that parses.
func style(ts string) string {
	for _, s := range styles {
		if s.re.MatchString(ts) {
			return s.name
		}
	}
	return "a style no official SDK sends"
}

// documented reports whether ts is in the one format Smile ID documents.
func documented(ts string) bool { return styles[0].re.MatchString(ts) }

// respellings are other spellings of the instant at, which a sender may
// have signed while it sent ts: a signature over one of them tells that
// the signed string and the sent one differ.
func respellings(ts string, at time.Time) []string {
	at = at.UTC()
	candidates := []string{
		signer.FormatTimestamp(at),
		at.Format(time.RFC3339),
		at.Format(time.RFC3339Nano),
		at.Format("2006-01-02T15:04:05.000000-07:00"),
		at.Format("2006-01-02T15:04:05-07:00"),
		at.Format("2006-01-02 15:04:05 -0700"),
		strconv.FormatInt(at.Unix(), 10),
		strconv.FormatInt(at.UnixMilli(), 10),
	}
	var out []string
	seen := map[string]bool{ts: true}
	for _, c := range candidates {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}
