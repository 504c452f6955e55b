package main

import (
	"strings"
	"testing"
)

// TestServeRefusesDemoInProduction: --demo-release-now (or its variable) is
// refused with the set-ups of a real deployment, before anything is opened.
func TestServeRefusesDemoInProduction(t *testing.T) {
	dataDir := t.TempDir()
	for _, args := range [][]string{
		{"serve", "--data-dir", dataDir, "--demo-release-now", "--database-url", "postgres://bluezone@127.0.0.1:1/bluezone"},
		{"serve", "--data-dir", dataDir, "--demo-release-now", "--s3-bucket", "exports"},
	} {
		_, stderr, code := run(t, "", args...)
		if code != 2 || !strings.Contains(stderr, "--demo-release-now is for demos") {
			t.Errorf("%q: exit %d: %s", args, code, stderr)
		}
	}
	t.Setenv("BLUEZONE_DEMO_RELEASE_NOW", "true")
	t.Setenv("BLUEZONE_DATABASE_URL", "postgres://bluezone@127.0.0.1:1/bluezone")
	if _, stderr, code := run(t, "", "serve", "--data-dir", dataDir); code != 2 || !strings.Contains(stderr, "refused with --database-url") {
		t.Errorf("from the environment: exit %d: %s", code, stderr)
	}
}
