package signer

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersionIn(t *testing.T) {
	dep := func(path, version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: path, Version: version, Replace: replace}
	}
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"main module with a version", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.2.3"}}, "v1.2.3"},
		{"main module built from a work tree", debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, "devel"},
		{"dependency of the main module", debug.BuildInfo{Main: debug.Module{Path: "example.com/app", Version: "(devel)"},
			Deps: []*debug.Module{dep("golang.org/x/time", "v0.10.0", nil), dep(modulePath, "v0.4.1", nil)}}, "v0.4.1"},
		{"pseudo-version kept whole", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{dep(modulePath, "v0.0.0-20261121100000-0123456789ab", nil)}}, "v0.0.0-20261121100000-0123456789ab"},
		{"replaced by another version", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{dep(modulePath, "v0.4.1", dep("example.com/fork", "v0.4.2-fork", nil))}}, "v0.4.2-fork"},
		{"replaced by a directory", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{dep(modulePath, "v0.4.1", dep("../smileguard", "", nil))}}, "devel"},
		{"a module whose path only starts like ours", debug.BuildInfo{Main: debug.Module{Path: "example.com/app"},
			Deps: []*debug.Module{dep(modulePath+"/contrib", "v9.9.9", nil)}}, "devel"},
		{"not found", debug.BuildInfo{Main: debug.Module{Path: "example.com/app", Version: "v1.0.0"}}, "devel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, versionIn(&tt.info))
		})
	}
}

func TestModuleVersionIsSendable(t *testing.T) {
	// A test binary usually records no version for the module under test;
	// whatever it records must be usable as a header value.
	v := moduleVersion()
	assert.True(t, v == develVersion || strings.HasPrefix(v, "v"), v)
	assert.True(t, headerSafe(v), v)
}
