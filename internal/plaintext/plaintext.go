// Package plaintext writes the short, fixed plain-text answers with which
// smileguard refuses requests.
package plaintext

import (
	"io"
	"net/http"
)

// Write answers with status and text, one line of plain text that browsers
// must not sniff as anything else.
func Write(w http.ResponseWriter, status int, text string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	io.WriteString(w, text+"\n")
}
