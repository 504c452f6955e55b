package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/reference"
)

// TestInspectSignKeepsMissingFields: Google's published sample lacks
// report types and days since onset; `export inspect` says so in a seventh
// column after the six documented ones, and `export sign` given those
// lines writes keys that lack them still.
func TestInspectSignKeepsMissingFields(t *testing.T) {
	dir := t.TempDir()
	sample := reference.Path(t, "gaen-testExport-2-records.zip")
	keyLines := func(path string) string {
		t.Helper()
		out, stderr, code := run(t, "", "export", "inspect", path)
		if code != 0 {
			t.Fatalf("inspect %s: exit %d: %s", path, code, stderr)
		}
		return out[strings.Index(out, "\nkeys: ")+1:]
	}
	want := "keys: 2\n" +
		"172fc480e598490c34177604339b1543 2649980 1 UNKNOWN 8 0 absent=report_type+days_since_onset\n" +
		"2b63053ac483238de176169e861f3dcd 2649866 114 UNKNOWN 1 0 absent=report_type+days_since_onset\n"
	got := keyLines(sample)
	if got != want {
		t.Fatalf("inspect of Google's sample:\n%s\nwant:\n%s", got, want)
	}
	run(t, "", "export", "keygen", "--private", filepath.Join(dir, "p.pem"), "--public", filepath.Join(dir, "q.pem"))
	lines := strings.SplitN(got, "\n", 2)[1]
	signed := filepath.Join(dir, "again.zip")
	if _, stderr, code := run(t, lines, "export", "sign", "--key", filepath.Join(dir, "p.pem"), "--region", "US", "--out", signed); code != 0 {
		t.Fatalf("sign: exit %d: %s", code, stderr)
	}
	if again := keyLines(signed); again != want {
		t.Errorf("inspect → sign → inspect:\n%s\nwant:\n%s", again, want)
	}
	// The six columns alone still sign, as before: every field present but
	// the UNKNOWN report type, which EN files never carry (it is the
	// protobuf default).
	var six []string
	for _, l := range strings.Split(strings.TrimSpace(lines), "\n") {
		six = append(six, strings.Join(strings.Fields(l)[:6], " "))
	}
	if _, stderr, code := run(t, strings.Join(six, "\n"), "export", "sign", "--key", filepath.Join(dir, "p.pem"), "--out", signed); code != 0 {
		t.Fatalf("sign six columns: exit %d: %s", code, stderr)
	}
	if again, want := keyLines(signed), strings.ReplaceAll(want, "+days_since_onset", ""); again != want {
		t.Errorf("six columns signed:\n%s\nwant:\n%s", again, want)
	}
}
