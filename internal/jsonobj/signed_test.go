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
		{"both once", `{"signature":"s","x":1,"timestamp":"t"}`, SignedMembers{[]byte(`"s"`), []byte(`"t"`), 1, 1}, nil},
		{"escaped names count", `{"sig\u006eature":"s","signature":2}`, SignedMembers{[]byte(`2`), nil, 2, 0}, nil},
		{"nested ones do not", `{"p":{"signature":"s","timestamp":"t"}}`, SignedMembers{}, nil},
		{"other case is another member", `{"Signature":"s"}`, SignedMembers{}, nil},
		{"not an object", `["signature"]`, SignedMembers{}, ErrNotObject},
		{"invalid after the members", `{"signature":"s","timestamp":"t"`, SignedMembers{}, ErrSyntax},
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
