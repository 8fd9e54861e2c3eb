package signer

import (
	"runtime/debug"
	"sync"
)

const (
	// modulePath is this module, looked up in the binary's build
	// information.
	modulePath = "github.com/smileguard/smileguard"

	// develVersion is sent as source_sdk_version when the build
	// information has no version for this module: in tests, and in
	// binaries built from a work tree or with a directory replacement.
	develVersion = "devel"
)

// moduleVersion returns this module's version, such as "v1.2.3", as the
// binary records it, or develVersion. It reads the build information once.
var moduleVersion = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return develVersion
	}
	return versionIn(info)
})

// versionIn finds this module's version in info: as the main module, or as
// a dependency, following a replacement.
func versionIn(info *debug.BuildInfo) string {
	if info.Main.Path == modulePath {
		return usableVersion(info.Main.Version)
	}
	for _, dep := range info.Deps {
		if dep.Path != modulePath {
			continue
		}
		if dep.Replace != nil {
			// A directory replacement has no version: the code is not
			// the required version's.
			return usableVersion(dep.Replace.Version)
		}
		return usableVersion(dep.Version)
	}
	return develVersion
}

func usableVersion(v string) string {
	if v == "" || v == "(devel)" {
		return develVersion
	}
	return v
}
