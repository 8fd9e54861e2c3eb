package main

import (
	"fmt"
	"runtime/debug"
)

// modules are the smileguard modules whose versions version prints.
var modules = []string{
	"github.com/smileguard/smileguard",
	"github.com/smileguard/smileguard/middleware/redisstore",
	"github.com/smileguard/smileguard/middleware/prommetrics",
}

func runVersion(e *env, args []string) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			fmt.Fprint(e.stdout, "Usage: smileguard version\n\nPrints the version of smileguard and of the modules it is built from.\n\nExamples:\n  smileguard version\n")
			return exitOK
		}
		fmt.Fprintln(e.stderr, "smileguard version: no arguments")
		return exitUsage
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(e.stdout, "smileguard (no build information)")
		return exitOK
	}
	fmt.Fprintf(e.stdout, "smileguard %s (%s)\n", version(info.Main), info.GoVersion)
	for _, dep := range info.Deps {
		for _, m := range modules {
			if dep.Path == m {
				fmt.Fprintf(e.stdout, "  %s %s\n", dep.Path, version(*dep))
			}
		}
	}
	return exitOK
}

// version is a module's version as built: "devel" from a work tree.
func version(m debug.Module) string {
	if m.Replace != nil {
		if m.Replace.Version == "" {
			return "devel (" + m.Replace.Path + ")"
		}
		return m.Replace.Version
	}
	if m.Version == "" || m.Version == "(devel)" {
		return "devel"
	}
	return m.Version
}
