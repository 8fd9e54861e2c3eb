package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"time"
)

// pretendHeader tells the demo's proxy which address the sender pretends to
// connect from. On the internet your load balancer writes the address Smile
// ID really connected from; on loopback every sender is local, so the demo
// says which address it plays. The proxy removes the header.
const pretendHeader = "Demo-Pretend-Client"

// loopback is how the demo lays out its servers on the loopback interface,
// so that the trusted proxy and the attacker connect to the receiver from
// different addresses: the receiver must believe the proxy's
// X-Forwarded-For and not the attacker's.
type loopback struct {
	receiver  string     // where the receiver listens
	attackers string     // where attackers connect to it directly; may be receiver
	proxyFrom netip.Addr // the address the proxy connects from: the trusted one
}

// pickLoopback returns the layout this machine supports. Linux (and
// Windows) answer on all of 127.0.0.0/8, so the proxy connects from
// 127.0.0.2 and attackers from 127.0.0.1. macOS has only 127.0.0.1 and ::1:
// there the proxy connects over IPv4 and attackers over IPv6.
func pickLoopback() (loopback, error) {
	if canBind("127.0.0.2") {
		return loopback{receiver: "127.0.0.1", attackers: "127.0.0.1", proxyFrom: netip.MustParseAddr("127.0.0.2")}, nil
	}
	if canBind("::1") {
		return ipv6Attackers, nil
	}
	return loopback{}, fmt.Errorf("demo: the loopback interface has neither 127.0.0.2 nor ::1; the demo needs two addresses on it")
}

// ipv6Attackers is the layout where attackers come over IPv6.
var ipv6Attackers = loopback{receiver: "127.0.0.1", attackers: "::1", proxyFrom: netip.MustParseAddr("127.0.0.1")}

func canBind(ip string) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// newProxy returns a reverse proxy to target that connects from the address
// from and sets X-Forwarded-For to the address the sender pretends to be,
// replacing whatever the sender wrote, as a load balancer does.
func newProxy(target *url.URL, from netip.Addr) *httputil.ReverseProxy {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from.AsSlice()}, Timeout: 5 * time.Second}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			client := pr.In.Header.Get(pretendHeader)
			if client == "" {
				client, _, _ = net.SplitHostPort(pr.In.RemoteAddr)
			}
			pr.Out.Header.Del(pretendHeader)
			pr.Out.Header.Set("X-Forwarded-For", client)
		},
		Transport: &http.Transport{DialContext: dialer.DialContext},
		ErrorLog:  log.New(io.Discard, "", 0),
	}
}

// serve serves h on ln in the background; Close the server to stop it.
func serve(ln net.Listener, h http.Handler) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go srv.Serve(ln)
	return srv
}
