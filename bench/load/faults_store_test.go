//go:build unix

package load

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/smileguard/smileguard/signer"
)

// faultPrefix is the proxies' --redis-prefix.
const faultPrefix = "faults:"

// replayKey is the Redis key under which the proxies' replay store keeps
// the delivery of a callback signed by faultKey at timestamp: the prefix,
// "replay:" and, in hex, the SHA-256 of the signature's length (one byte),
// the signature and the timestamp, as middleware/redisstore names it.
func replayKey(timestamp string) string {
	signature := signer.Sign(faultKey.APIKey, faultKey.PartnerID, timestamp)
	sum := sha256.Sum256(append(append([]byte{byte(len(signature))}, signature...), timestamp...))
	return faultPrefix + "replay:" + hex.EncodeToString(sum[:])
}

// replayStates asks Redis at addr for the state of each key: the first
// byte of its value ('f' claimed, 'h' handled, 'r' released), or 0 if it
// holds none. It speaks just enough of the protocol: GET, pipelined.
func replayStates(addr string, keys []string) ([]byte, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	rd := bufio.NewReader(conn)
	states := make([]byte, 0, len(keys))
	const batch = 1000
	for from := 0; from < len(keys); from += batch {
		w := bufio.NewWriter(conn)
		part := keys[from:min(from+batch, len(keys))]
		for _, k := range part {
			fmt.Fprintf(w, "GET %s\r\n", k)
		}
		if err := w.Flush(); err != nil {
			return nil, err
		}
		for range part {
			state, err := readState(rd)
			if err != nil {
				return nil, err
			}
			states = append(states, state)
		}
	}
	return states, nil
}

// readState reads one reply to GET: a bulk string, whose first byte it
// returns, or nil, for which it returns 0.
func readState(rd *bufio.Reader) (byte, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 4 || line[0] != '$' {
		return 0, fmt.Errorf("redis answered %q", line)
	}
	n, err := strconv.Atoi(line[1 : len(line)-2])
	if err != nil || n < 0 {
		return 0, err // $-1: no such key
	}
	value := make([]byte, n+2)
	if _, err := io.ReadFull(rd, value); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	return value[0], nil
}
