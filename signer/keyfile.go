package signer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// MaxKeyFileBytes is the largest key file [LoadKeysFile] reads.
const MaxKeyFileBytes = 1 << 20

// keyFile is the document LoadKeysFile reads.
type keyFile struct {
	Keys []keyFileEntry `json:"keys"`
}

type keyFileEntry struct {
	ID          string `json:"id"`
	PartnerID   string `json:"partner_id"`
	Environment string `json:"environment"`
	APIKey      string `json:"api_key"`
	CreatedAt   string `json:"created_at"` // the times are parsed here, so that no error quotes a value
	NotBefore   string `json:"not_before"`
	NotAfter    string `json:"not_after"`
}

// LoadKeysFile reads API keys from the JSON file at path: an object whose
// "keys" member lists one object per key,
//
//	{"keys": [
//	  {"id": "production-2026-11", "partner_id": "1622", "environment": "production",
//	   "api_key": "...", "created_at": "2026-11-02T09:00:00Z",
//	   "not_before": "2026-11-02T09:00:00Z", "not_after": "2027-02-01T00:00:00Z"}
//	]}
//
// "id", "partner_id", "environment" and "api_key" are required;
// "created_at" (see [Key.CreatedAt]), "not_before" and "not_after" are RFC 3339
// times and may be left out. Members other than these are refused, so that a
// misspelt "not_after" cannot be silently ignored.
//
// On Unix the file must not be open to anyone but its owner: any group or
// other permission bit (mode 0640, 0604, 0660, ...) is refused with
// [ErrUnsafeKeyFile], as ssh refuses a private key; chmod 600 it. On Windows,
// whose access lists Go's file mode does not show, the mode is not checked.
//
// The keys are then checked with [CheckKeys]. Every error wraps
// [ErrKeySource], and [ErrInvalidKey] (or a narrower sentinel) too when a key
// is at fault; it names the file, the key and the field, never a value
// from the file.
func LoadKeysFile(path string) ([]Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeySource, err) // *PathError: the path and why, no content
	}
	defer f.Close()
	info, err := f.Stat() // the file opened, not whatever the path names by now
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeySource, err)
	}
	if err := checkKeyFileMode(path, info.Mode()); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKeySource, path, err)
	}
	if len(data) > MaxKeyFileBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrKeySource, path, MaxKeyFileBytes)
	}
	keys, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKeySource, path, err)
	}
	return keys, nil
}

// checkKeyFileMode refuses a key file open to group or others.
func checkKeyFileMode(path string, mode os.FileMode) error {
	if !mode.IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrKeySource, path)
	}
	if runtime.GOOS != "windows" && mode.Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %04o; allow its owner only (chmod 600)", ErrUnsafeKeyFile, path, mode.Perm())
	}
	return nil
}

// parseKeyFile decodes and checks a key file's content. Its errors say
// where in the file the fault is; the caller names the file.
func parseKeyFile(data []byte) ([]Key, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc keyFile
	if err := dec.Decode(&doc); err != nil {
		return nil, describeJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON object")
	}
	if len(doc.Keys) == 0 {
		return nil, errors.New(`"keys" lists no key`)
	}
	keys := make([]Key, len(doc.Keys))
	for i, e := range doc.Keys {
		where := fmt.Sprintf("keys[%d]", i)
		if e.ID == "" {
			return nil, fmt.Errorf(`%s: "id" is missing`, where)
		}
		key := Key{ID: e.ID, PartnerID: e.PartnerID, APIKey: e.APIKey, Environment: Environment(e.Environment)}
		for _, field := range []struct {
			name  string
			value string
			into  *time.Time
		}{
			{"created_at", e.CreatedAt, &key.CreatedAt},
			{"not_before", e.NotBefore, &key.NotBefore},
			{"not_after", e.NotAfter, &key.NotAfter},
		} {
			var err error
			if *field.into, err = parseKeyTime(field.value); err != nil {
				return nil, fmt.Errorf("%s (%q): %q %w", where, e.ID, field.name, err)
			}
		}
		keys[i] = key
	}
	if err := CheckKeys(keys...); err != nil {
		return nil, err
	}
	return keys, nil
}

// parseKeyTime reads an optional RFC 3339 time, "" being the zero time. Its
// error does not quote the value.
func parseKeyTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("is not an RFC 3339 time such as 2026-11-21T10:00:00Z")
	}
	return t, nil
}

// describeJSONError says what is wrong with a key file without quoting
// it: encoding/json's syntax errors quote the offending character, which
// may be part of a secret.
func describeJSONError(err error) error {
	var syntax *json.SyntaxError
	var wrongType *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &wrongType) && wrongType.Field == "":
		return errors.New(`not a JSON object with a "keys" member`)
	case errors.As(err, &wrongType):
		return fmt.Errorf("%q must be a JSON %s", wrongType.Field, jsonTypeOf(wrongType.Type.String()))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the JSON ends early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// A member name, not a value: naming it is what makes a typo easy
		// to find. Only a name shaped like the file's own ones is shown,
		// in case a secret was pasted where a name goes.
		name, unquoted := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if unquoted == nil && memberLike(name) {
			return fmt.Errorf("unknown member %q", name)
		}
		return errors.New("an unknown member")
	}
	return errors.New("not a key file")
}

// memberLike reports whether name looks like a key file member: lower-case
// ASCII letters and "_", at most 24 of them.
func memberLike(name string) bool {
	if name == "" || len(name) > 24 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

func jsonTypeOf(goType string) string {
	switch {
	case goType == "string":
		return "string"
	case strings.HasPrefix(goType, "[]"):
		return "array"
	}
	return "object"
}
