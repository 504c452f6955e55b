package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestAPIKeyCommands: apikey create prints a key the server accepts,
// apikey revoke makes it refused, and both are in the audit log.
func TestAPIKeyCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "bluezone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, _ := blob.NewDir(t.TempDir())
	s, err := server.New(ctx, server.Config{}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	verify := func(key string) int {
		req, _ := http.NewRequest("POST", hs.URL+"/api/verify", strings.NewReader(`{"code":"00000000"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if _, stderr, code := run(t, "", "apikey", "create", "--name", "Not An App!", "--data-dir", dir); code != 2 || !strings.Contains(stderr, "package name") {
		t.Errorf("bad name: exit %d: %s", code, stderr)
	}
	out, stderr, code := run(t, "", "apikey", "create", "--name", "vn.gov.bluezone", "--platform", "ios", "--data-dir", dir, "--by", "ops@moh.gov.vn")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[0], "bzk_") || lines[1] != "1 vn.gov.bluezone ios" {
		t.Fatalf("apikey create: exit %d, %q, %s", code, out, stderr)
	}
	if st := verify(lines[0]); st != 400 { // code_invalid: the key was accepted
		t.Errorf("with the new key: %d, want 400 (an unknown code)", st)
	}
	if out, _, _ := run(t, "", "apikey", "list", "--data-dir", dir); !strings.HasPrefix(out, "1 vn.gov.bluezone ios "+lines[0][:10]) || !strings.HasSuffix(strings.TrimSpace(out), "active") {
		t.Errorf("apikey list: %q", out)
	}
	if out, stderr, code := run(t, "", "apikey", "revoke", "1", "--data-dir", dir, "--by", "ops@moh.gov.vn"); code != 0 || !strings.Contains(out, "revoked API key 1 of vn.gov.bluezone") {
		t.Fatalf("apikey revoke: exit %d, %q, %s", code, out, stderr)
	}
	if st := verify(lines[0]); st != 401 {
		t.Errorf("with the revoked key: %d, want 401", st)
	}
	if _, _, code := run(t, "", "apikey", "revoke", "1", "--data-dir", dir); code == 0 {
		t.Error("revoking twice succeeded")
	}
	entries, _ := db.Audit(ctx, 10)
	var actions []string
	for _, e := range entries {
		if e.Actor == "ops@moh.gov.vn" {
			actions = append(actions, e.Action)
		}
	}
	if strings.Join(actions, ",") != "revoke_api_key,create_api_key" {
		t.Errorf("audit log: %v", actions)
	}
}
