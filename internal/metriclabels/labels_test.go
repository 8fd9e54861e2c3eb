package metriclabels

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

func TestEveryFixedValueHasItsOwnIndex(t *testing.T) {
	for i, v := range OutcomeValues[:NumOutcomes-1] {
		assert.Equal(t, i, OutcomeIndex(middleware.Outcome(v)), v)
	}
	for i, v := range ReasonValues[:NumReasons-1] {
		assert.Equal(t, i, ReasonIndex(middleware.ReasonCode(v)), v)
	}
	for i, v := range EnvironmentValues[:NumEnvironments-1] {
		assert.Equal(t, i, EnvironmentIndex(signer.Environment(v)), v)
	}
	for i, v := range FormatValues[:NumFormats-1] {
		assert.Equal(t, i, FormatIndex(middleware.CallbackFormat(v)), v)
	}
	assert.Equal(t, NumOutcomes-1, OutcomeIndex("exploded"))
	assert.Equal(t, NumReasons-1, ReasonIndex("cosmic_ray"))
	assert.Equal(t, NumEnvironments-1, EnvironmentIndex("staging"))
	assert.Equal(t, NumFormats-1, FormatIndex("carrier_pigeon"))
}

// TestEveryReasonCodeOfTheCoreIsKnown reads the core's constants, so that a
// reason code added there without a label value here fails a test here
// rather than being counted as "other".
func TestEveryReasonCodeOfTheCoreIsKnown(t *testing.T) {
	pkg, err := build.Import("github.com/smileguard/smileguard/middleware", ".", build.FindOnly)
	require.NoError(t, err)
	file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(pkg.Dir, "observe.go"), nil, 0)
	require.NoError(t, err)

	found := map[string][]string{}
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			typ, ok := vs.Type.(*ast.Ident)
			if !ok || len(vs.Values) != 1 {
				continue
			}
			lit, ok := vs.Values[0].(*ast.BasicLit)
			if !ok {
				continue
			}
			v, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			found[typ.Name] = append(found[typ.Name], v)
		}
	}
	require.NotEmpty(t, found["ReasonCode"])
	require.NotEmpty(t, found["Outcome"])
	for _, r := range found["ReasonCode"] {
		assert.NotEqual(t, NumReasons-1, ReasonIndex(middleware.ReasonCode(r)), "reason code %q is not in ReasonValues", r)
	}
	for _, o := range found["Outcome"] {
		assert.NotEqual(t, NumOutcomes-1, OutcomeIndex(middleware.Outcome(o)), "outcome %q is not in OutcomeValues", o)
	}
	assert.Len(t, found["ReasonCode"], NumReasons-1, "ReasonValues lists a code the core does not have")
	assert.Len(t, found["Outcome"], NumOutcomes-1, "OutcomeValues lists an outcome the core does not have")
}
