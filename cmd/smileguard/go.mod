module github.com/smileguard/smileguard/cmd/smileguard

go 1.25.0

require (
	github.com/prometheus/client_golang v1.25.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/smileguard/smileguard v0.2.0
	github.com/smileguard/smileguard/middleware/redisstore v0.2.0
	github.com/stretchr/testify v1.12.1
	golang.org/x/time v0.10.0
)
