package prommetrics

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
	for i, v := range outcomeValues[:numOutcomes-1] {
		assert.Equal(t, i, outcomeIndex(middleware.Outcome(v)), v)
	}
	for i, v := range reasonValues[:numReasons-1] {
		assert.Equal(t, i, reasonIndex(middleware.ReasonCode(v)), v)
	}
	for i, v := range environmentValues[:numEnvironments-1] {
		assert.Equal(t, i, environmentIndex(signer.Environment(v)), v)
	}
	for i, v := range formatValues[:numFormats-1] {
		assert.Equal(t, i, formatIndex(middleware.CallbackFormat(v)), v)
	}
	assert.Equal(t, numOutcomes-1, outcomeIndex("exploded"))
	assert.Equal(t, numReasons-1, reasonIndex("cosmic_ray"))
	assert.Equal(t, numEnvironments-1, environmentIndex("staging"))
	assert.Equal(t, numFormats-1, formatIndex("carrier_pigeon"))
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
		assert.NotEqual(t, numReasons-1, reasonIndex(middleware.ReasonCode(r)), "reason code %q is not in reasonValues", r)
	}
	for _, o := range found["Outcome"] {
		assert.NotEqual(t, numOutcomes-1, outcomeIndex(middleware.Outcome(o)), "outcome %q is not in outcomeValues", o)
	}
	assert.Len(t, found["ReasonCode"], numReasons-1, "reasonValues lists a code the core does not have")
	assert.Len(t, found["Outcome"], numOutcomes-1, "outcomeValues lists an outcome the core does not have")
}
