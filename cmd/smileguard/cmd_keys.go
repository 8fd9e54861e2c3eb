package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/smileguard/smileguard/cmd/smileguard/internal/config"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/flagenv"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/report"
	"github.com/smileguard/smileguard/signer"
)

var keysHelp = help{
	usage: "keys check [flags] FILE",
	about: `
Reviews a key file, one line per check: the file's permissions (only its
owner may read it; the proxy refuses it otherwise), the file's shape and
every key's fields, the same API key under two IDs or labelled with the other
environment, then each key's age against Smile ID's 90 days (from created_at),
its expiry (not_after) and validity window, and whether each environment has
a key usable now. No key is printed.

Exit status 0 if nothing needs attention, 1 if something does.`,
	examples: `  smileguard keys check /etc/smileguard/keys.json

  # In CI, a month ahead: will anything need rotating by then?
  smileguard keys check --at "$(date -u -d '+30 days' +%FT%TZ)" keys.json

  # Stricter than Smile ID's advice:
  smileguard keys check --key-max-age 60d --key-expiry-warning 30d keys.json`,
}

func runKeys(e *env, args []string) int {
	fs := flagenv.New("keys check")
	at := fs.String("at", "", "review at `TIME` (RFC 3339) instead of now")
	maxAge := flagenv.Duration(signer.DefaultMaxKeyAge)
	warning := flagenv.Duration(signer.DefaultExpiryWarning)
	fs.Var(&maxAge, "key-max-age", "report keys older than `DURATION` (from created_at); Smile ID asks for 90 days")
	fs.Var(&warning, "key-expiry-warning", "report keys whose not_after is within `DURATION`")
	fs.Env("key-max-age", "key-expiry-warning")
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			printHelp(e.stdout, fs, keysHelp)
			return exitOK
		}
		fmt.Fprint(e.stderr, "smileguard keys: the subcommand is check: smileguard keys check FILE\n")
		return exitUsage
	}
	if status, ok := parse(e, fs, keysHelp, args[1:]); !ok {
		return status
	}
	var p config.Problems
	now := time.Now()
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			p.Add("--at %q: not an RFC 3339 time such as 2026-11-21T10:00:00Z", *at)
		}
		now = t
	}
	if fs.NArg() != 1 {
		p.Add("one FILE: smileguard keys check FILE")
	}
	if maxAge <= 0 || warning < 0 {
		p.Add("--key-max-age must be positive and --key-expiry-warning not negative")
	}
	if err := p.Err(); err != nil {
		return fail(e, "keys check", err)
	}
	r := reviewKeyFile(fs.Arg(0), now, signer.KeyPolicy{MaxAge: time.Duration(maxAge), ExpiryWarning: time.Duration(warning)})
	r.WriteTo(e.stdout)
	if !r.OK {
		return exitFailed
	}
	return exitOK
}

// reviewKeyFile reviews the key file at path at now.
func reviewKeyFile(path string, now time.Time, policy signer.KeyPolicy) (r report.Report) {
	defer func() { verdict(&r) }()

	info, err := os.Stat(path)
	if err != nil {
		r.Add("file", report.Fail, "%v", err)
		return r
	}
	perm := info.Mode().Perm()
	safe := perm&0o077 == 0
	switch {
	case !info.Mode().IsRegular():
		r.Add("file", report.Fail, "%s is not a regular file", path)
		return r
	case !safe:
		r.Add("file", report.Fail, "mode %04o: other users can read or write it; chmod 600 (the proxy refuses it as it is)", perm)
	default:
		r.Add("file", report.OK, "mode %04o: only its owner can read it", perm)
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		r.Add("owner", report.Warn, "owned by uid %d, not by the user running this (uid %d)", st.Uid, os.Getuid())
	}

	// signer.LoadKeysFile refuses a file open to others before it reads
	// it. To review such a file all the same, it reads a private copy.
	load := path
	if !safe {
		copyPath, cleanup, err := privateCopy(path)
		if err != nil {
			r.Add("keys", report.Fail, "cannot read it: %v", err)
			return r
		}
		defer cleanup()
		load = copyPath
	}
	keys, err := signer.LoadKeysFile(load)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), load, path)
		r.Add("keys", report.Fail, "%s", msg)
		return r
	}
	r.Add("keys", report.OK, "%d: %s", len(keys), strings.Join(keyIDsWithEnv(keys), ", "))
	r.Add("duplicates", report.OK, "no API key under two IDs, none labelled with the other environment")

	for _, k := range keys {
		check := "key " + k.ID
		w, problem := k.Review(now, policy)
		age := "created_at not set: its age is not reviewed"
		if !k.CreatedAt.IsZero() {
			age = fmt.Sprintf("created %s (%d days ago)", k.CreatedAt.UTC().Format(time.DateOnly), int(now.Sub(k.CreatedAt).Hours()/24))
		}
		switch {
		case problem && w.Problem == signer.KeyExpired:
			r.Add(check, report.Fail, "%s: expired at %s (not_after): it verifies nothing; remove it", k.Environment, stampUTC(k.NotAfter))
		case problem && w.Problem == signer.KeyExpiring:
			r.Add(check, report.Warn, "%s: expires at %s (in %s): make sure its successor is in the file", k.Environment,
				stampUTC(k.NotAfter), days(k.NotAfter.Sub(now)))
		case problem && w.Problem == signer.KeyTooOld:
			r.Add(check, report.Warn, "%s: %s, older than %s: rotate it in the Smile ID portal", k.Environment, age, days(policyAge(policy)))
		case !k.NotBefore.IsZero() && now.Before(k.NotBefore):
			r.Add(check, report.Info, "%s: not valid before %s (not_before); %s", k.Environment, stampUTC(k.NotBefore), age)
		default:
			window := "no end"
			if !k.NotAfter.IsZero() {
				window = "until " + stampUTC(k.NotAfter)
			}
			r.Add(check, report.OK, "%s, partner id %q, %s, %s", k.Environment, k.PartnerID, age, window)
		}
	}

	var parts []string
	mark := report.OK
	for _, env := range []signer.Environment{signer.Production, signer.Sandbox} {
		total, usable := 0, 0
		for _, k := range keys {
			if k.Environment == env {
				total++
				if k.UsableAt(now) {
					usable++
				}
			}
		}
		if total == 0 {
			continue
		}
		if usable == 0 {
			mark = report.Fail
		}
		parts = append(parts, fmt.Sprintf("%s: %d of %d usable now", env, usable, total))
	}
	r.Add("environments", mark, "%s", strings.Join(parts, "; "))
	return r
}

// verdict adds the closing line.
func verdict(r *report.Report) {
	fails, warns := r.Count(report.Fail), r.Count(report.Warn)
	switch {
	case fails+warns == 0:
		r.OK = true
		r.Add("verdict", report.OK, "nothing needs attention")
	case fails == 0:
		r.Add("verdict", report.Warn, "%d warning(s)", warns)
	default:
		r.Add("verdict", report.Fail, "%d problem(s), %d warning(s)", fails, warns)
	}
}

// privateCopy copies the file at path into a new directory only the
// current user can enter, as a file only they can read, and returns its
// path and a function that removes both.
func privateCopy(path string) (string, func(), error) {
	src, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer src.Close()
	dir, err := os.MkdirTemp("", "smileguard-keys-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	dst, err := os.OpenFile(filepath.Join(dir, "keys.json"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	_, err = io.Copy(dst, io.LimitReader(src, signer.MaxKeyFileBytes+1))
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, err
	}
	return dst.Name(), cleanup, nil
}

func keyIDsWithEnv(keys []signer.Key) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID + " (" + string(k.Environment) + ")"
	}
	return ids
}

func stampUTC(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func days(d time.Duration) string {
	n := int(d.Hours() / 24)
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func policyAge(p signer.KeyPolicy) time.Duration {
	if p.MaxAge == 0 {
		return signer.DefaultMaxKeyAge
	}
	return p.MaxAge
}
