// Package flagenv is a flag.FlagSet whose flags can also be set by
// environment variables, SMILEGUARD_ + the flag's name upper-cased with
// '-' as '_' (--redis-url is SMILEGUARD_REDIS_URL). A flag on the command
// line wins over its variable. Errors name the flag, and the variable too
// when the value came from it, never the value of a flag marked secret.
package flagenv

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Prefix starts the name of every variable.
const Prefix = "SMILEGUARD_"

// EnvName returns the variable that sets the flag name.
func EnvName(name string) string {
	return Prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// A Set is a command's flags. Define flags on its FlagSet (or with the
// helpers), mark those that read a variable with Env, then Parse.
type Set struct {
	*flag.FlagSet
	env     map[string]bool // flags that read their variable
	source  map[string]string
	aliases map[string]string // short name -> long name, for help and sources
	groups  []group
}

// group is a titled run of flags in the help.
type group struct {
	title string
	names []string
}

// New returns an empty Set for the command name. Its FlagSet reports
// errors to the caller (flag.ContinueOnError) and prints nothing itself.
func New(name string) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &Set{FlagSet: fs, env: map[string]bool{}, source: map[string]string{}, aliases: map[string]string{}}
}

// Env marks the flags names as settable by their variables.
func (s *Set) Env(names ...string) {
	for _, n := range names {
		if s.Lookup(n) == nil {
			panic("flagenv: Env of undefined flag " + n)
		}
		s.env[n] = true
	}
}

// Group titles the flags names, in that order, in the help. Flags in no
// group follow under "Other flags".
func (s *Set) Group(title string, names ...string) {
	for _, n := range names {
		if s.Lookup(n) == nil {
			panic("flagenv: Group of undefined flag " + n)
		}
	}
	s.groups = append(s.groups, group{title: title, names: names})
}

// ReadsEnv reports whether the flag name reads its variable.
func (s *Set) ReadsEnv(name string) bool { return s.env[name] }

// Alias defines short as another name of the flag long, as -H is of
// --header.
func (s *Set) Alias(short, long string) {
	f := s.Lookup(long)
	if f == nil {
		panic("flagenv: Alias of undefined flag " + long)
	}
	s.Var(f.Value, short, f.Usage)
	s.aliases[short] = long
}

// Parse parses args, then sets each flag marked with Env that the command
// line left alone from its variable, read with lookup. An error names the
// flag (and the variable); flag.ErrHelp is returned as is.
func (s *Set) Parse(args []string, lookup func(string) (string, bool)) error {
	if err := s.FlagSet.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%s: %w", s.Name(), err)
	}
	s.Visit(func(f *flag.Flag) {
		name := f.Name
		if long, ok := s.aliases[name]; ok {
			name = long
		}
		s.source[name] = "--" + name
	})
	names := make([]string, 0, len(s.env))
	for n := range s.env {
		names = append(names, n)
	}
	sort.Strings(names)
	var problems []string
	for _, n := range names {
		if _, set := s.source[n]; set {
			continue
		}
		value, ok := lookup(EnvName(n))
		if !ok || value == "" {
			// An empty variable is unset: deployment templates often
			// define every variable, some empty.
			continue
		}
		if err := s.Set(n, value); err != nil {
			problems = append(problems, fmt.Sprintf("%s (--%s): %v", EnvName(n), n, err))
			continue
		}
		s.source[n] = EnvName(n) + " (--" + n + ")"
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s: %s", s.Name(), strings.Join(problems, "; "))
	}
	return nil
}

// IsSet reports whether the flag name was given, on the command line or
// by its variable.
func (s *Set) IsSet(name string) bool {
	_, ok := s.source[name]
	return ok
}

// Source names where the flag's value came from, for errors: "--name", or
// "SMILEGUARD_NAME (--name)" when its variable set it. For a flag left at
// its default it is "--name".
func (s *Set) Source(name string) string {
	if src, ok := s.source[name]; ok {
		return src
	}
	return "--" + name
}

// PrintDefaults writes the flags, by group, long names only, one
// paragraph each, with the variable a flag reads.
func (s *Set) PrintDefaults(w io.Writer) {
	shorts := map[string]string{}
	for short, long := range s.aliases {
		shorts[long] = short
	}
	printed := map[string]bool{}
	print := func(f *flag.Flag) {
		printed[f.Name] = true
		name := "--" + f.Name
		if short, ok := shorts[f.Name]; ok {
			name = "-" + short + ", " + name
		}
		kind, usage := flag.UnquoteUsage(f)
		if kind != "" {
			name += " " + kind
		}
		fmt.Fprintf(w, "  %s\n", name)
		for _, line := range strings.Split(usage, "\n") {
			fmt.Fprintf(w, "      %s\n", line)
		}
		var notes []string
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			notes = append(notes, "default "+f.DefValue)
		}
		if s.env[f.Name] {
			notes = append(notes, "env "+EnvName(f.Name))
		}
		if len(notes) > 0 {
			fmt.Fprintf(w, "      (%s)\n", strings.Join(notes, "; "))
		}
	}
	for i, g := range s.groups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s:\n", g.title)
		for _, n := range g.names {
			print(s.Lookup(n))
		}
	}
	first := true
	s.VisitAll(func(f *flag.Flag) {
		if _, alias := s.aliases[f.Name]; alias || printed[f.Name] {
			return
		}
		if first && len(s.groups) > 0 {
			fmt.Fprint(w, "\nOther flags:\n")
		}
		first = false
		print(f)
	})
}
