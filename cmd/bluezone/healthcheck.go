package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// healthcheckCommand probes a server's /healthz, for container health
// checks: a scratch image has no curl or wget.
func healthcheckCommand() *command {
	return &command{
		name: "healthcheck",
		args: "[--url URL]",
		summary: describe(
			"Exits 0 when the server answers its /healthz with 200 (the database answers), 1 otherwise.",
			"For container health checks (the Dockerfile's HEALTHCHECK) and service monitors."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			url := fs.String("url", "", "the URL to probe (default: http://ADDR/healthz, ADDR from $BLUEZONE_ADDR or 127.0.0.1:8080, with 0.0.0.0 or [::] read as loopback)")
			insecure := fs.Bool("insecure", false, "accept any TLS certificate (a self-signed --tls-cert on loopback)")
			timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 0 {
					return usageErrorf("healthcheck: unexpected arguments %q", args)
				}
				u := *url
				if u == "" {
					u = "http://" + probeAddr(os.Getenv("BLUEZONE_ADDR")) + "/healthz"
				}
				c := &http.Client{Timeout: *timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: *insecure}}}
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				if err != nil {
					return usageErrorf("healthcheck: %v", err)
				}
				resp, err := c.Do(req)
				if err != nil {
					return fmt.Errorf("healthcheck: %w", err)
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("healthcheck: %s: %s: %s", u, resp.Status, body)
				}
				fmt.Fprintf(st.out, "%s: %s", u, body)
				return nil
			}
		},
	}
}

// probeAddr turns a listen address into one to connect to.
func probeAddr(addr string) string {
	if addr == "" {
		return "127.0.0.1:8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
