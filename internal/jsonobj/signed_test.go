package jsonobj

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFindSigned(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want SignedMembers
		err  error
	}{
		{"both once", `{"signature":"s","x":1,"timestamp":"t"}`,
			SignedMembers{Signature: []byte(`"s"`), Timestamp: []byte(`"t"`), Signatures: 1, Timestamps: 1}, nil},
		{"escaped names count", `{"sig\u006eature":"s","signature":2}`,
			SignedMembers{Signature: []byte(`2`), Signatures: 2}, nil},
		{"nested ones do not", `{"p":{"signature":"s","timestamp":"t","Signature":"x"}}`, SignedMembers{}, nil},
		{"other case is a case variant", `{"Signature":"s"}`, SignedMembers{CaseVariants: 1}, nil},
		{"case variants beside the exact names are counted, not taken", `{"signature":"s","TIMESTAMP":"T","timestamp":"t","ſignature":"S"}`,
			SignedMembers{Signature: []byte(`"s"`), Timestamp: []byte(`"t"`), Signatures: 1, Timestamps: 1, CaseVariants: 2}, nil},
		{"names that only start alike are other members", `{"signatures":1,"Timestamps":2,"sign":3}`, SignedMembers{}, nil},
		{"not an object", `["signature"]`, SignedMembers{}, ErrNotObject},
		{"invalid after the members", `{"signature":"s","timestamp":"t"`, SignedMembers{}, ErrSyntax},
		{"invalid after a case variant", `{"Signature":"s",}`, SignedMembers{}, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindSigned([]byte(tt.doc))
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assert.Equal(t, SignedMembers{}, got, "nothing is reported from an invalid document")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
