package server_test

import (
	"net/http"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestRootRedirectsToThePortal: the server's bare address leads to the
// portal, not to a 404; other unknown paths still are not found.
func TestRootRedirectsToThePortal(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		path     string
		status   int
		location string
	}{{"/", http.StatusFound, "/portal/"}, {"/nothing", http.StatusNotFound, ""}} {
		resp, err := client.Get(e.http.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
			t.Errorf("GET %s: %d, Location %q; want %d, %q", tt.path, resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
		}
	}
}
