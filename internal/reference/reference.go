// Package reference finds the published known-answer files (shared/reference,
// beside the project root) for tests.
package reference

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Path returns the path of a file in ../shared/reference relative to the
// project root, skipping the test with a clear message when it is absent.
// CI always has it, so a skip there is a failure: BLUEZONE_REQUIRE_REFERENCE=1
// turns the skip into an error.
func Path(t testing.TB, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	p := filepath.Join(root, "..", "shared", "reference", name)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("BLUEZONE_REQUIRE_REFERENCE") != "" {
			t.Fatalf("reference file %s is required but missing: %v", p, err)
		}
		t.Skipf("reference file %s not found (it lives in ../shared/reference beside the project): %v", p, err)
	}
	return p
}

// Read returns the contents of a reference file, see Path.
func Read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
