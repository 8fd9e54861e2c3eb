module github.com/smileguard/smileguard/examples

go 1.25.0

require (
	github.com/smileguard/smileguard v0.0.0
	golang.org/x/time v0.10.0
)

require github.com/stretchr/testify v1.12.1 // indirect

replace github.com/smileguard/smileguard => ../
