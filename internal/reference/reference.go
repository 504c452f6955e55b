// Package reference finds the published known-answer files (shared/reference)
// and reference data (shared/data), beside the project root, for tests.
package reference

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// SharedDir is the folder that holds reference/ and data/:
// $BLUEZONE_SHARED_DIR when set, else ../shared beside the project root.
// scripts/mutation sets the variable because gremlins runs the tests in a
// copy of the module in a temporary folder, where ../shared is not.
func SharedDir() string {
	if d := os.Getenv("BLUEZONE_SHARED_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
}

// Path returns the path of a file in shared/reference, skipping the test
// with a clear message when it is absent. CI always has it, so a skip there
// is a failure: BLUEZONE_REQUIRE_REFERENCE=1 turns the skip into an error.
func Path(t testing.TB, name string) string {
	t.Helper()
	return find(t, filepath.Join(SharedDir(), "reference", name))
}

// DataPath is Path for a file (or folder) in shared/data.
func DataPath(t testing.TB, name string) string {
	t.Helper()
	return find(t, filepath.Join(SharedDir(), "data", name))
}

func find(t testing.TB, p string) string {
	t.Helper()
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("BLUEZONE_REQUIRE_REFERENCE") != "" {
			t.Fatalf("reference file %s is required but missing: %v", p, err)
		}
		t.Skipf("reference file %s not found (it lives in ../shared beside the project, or $BLUEZONE_SHARED_DIR): %v", p, err)
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
