package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/smileguard/smileguard/cmd/smileguard/internal/config"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/flagenv"
)

// Exit statuses.
const (
	exitOK     = 0 // done; for verify, the guard would admit the callback
	exitFailed = 1 // the check failed, or the proxy stopped on an error
	exitUsage  = 2 // bad command line or configuration
)

// env is what a command reads from its process: the arguments' streams
// and the environment, so that tests run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
}

// A command is one subcommand of smileguard.
type command struct {
	name    string
	summary string
	run     func(e *env, args []string) int
}

var commands = []command{
	{"proxy", "guard the callback path(s) and forward admitted callbacks to an upstream", runProxy},
	{"verify", "explain, check by check, whether the guard would admit a captured callback", runVerify},
	{"sign", "sign a callback (or a sample one) and print it or POST it to a receiver", runSign},
	{"keys", "review a key file: age, expiry, duplicates, permissions (keys check FILE)", runKeys},
	{"version", "print the version", runVersion},
}

func main() {
	os.Exit(run(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv}))
}

// run runs the command args name and returns the exit status.
func run(args []string, e *env) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			for _, c := range commands {
				if c.name == args[1] {
					return c.run(e, []string{"--help"})
				}
			}
		}
		usage(e.stdout)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "smileguard: unknown command %q\n\n", name)
	usage(e.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `smileguard guards the endpoint that receives Smile ID callbacks, and helps
to debug and test one.

Usage:
  smileguard <command> [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "smileguard <command> --help" for a command's flags and examples.
Flags may be written -flag or --flag. Those marked "env" can also be set by
the environment variable shown, SMILEGUARD_ and the flag's name upper-cased
with '-' as '_'; the command line wins.
`)
}

// help describes a command for its --help: what it does, its usage line,
// its flags and examples.
type help struct {
	usage    string // after "smileguard "
	about    string
	examples string
}

// parse parses a command's flags; for --help it prints the help and
// reports exitOK, for a bad flag the error and exitUsage.
func parse(e *env, fs *flagenv.Set, h help, args []string) (int, bool) {
	err := fs.Parse(args, e.lookup)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		printHelp(e.stdout, fs, h)
		return exitOK, false
	}
	fmt.Fprintf(e.stderr, "smileguard %v\nRun \"smileguard %s --help\" for usage.\n", err, fs.Name())
	return exitUsage, false
}

func printHelp(w io.Writer, fs *flagenv.Set, h help) {
	fmt.Fprintf(w, "Usage: smileguard %s\n\n%s\n\n", h.usage, strings.TrimSpace(h.about))
	fs.PrintDefaults(w)
	fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(h.examples, "\n"))
}

// fail reports a configuration error and returns its exit status.
func fail(e *env, cmd string, err error) int {
	if errors.Is(err, config.ErrUsage) {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(e.stderr, "smileguard %s: %s\n", cmd, line)
		}
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "smileguard %s: %v\n", cmd, err)
	return exitFailed
}
