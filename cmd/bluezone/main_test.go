package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/reference"
)

// run calls the command line in process and returns stdout, stderr and the exit status.
func run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := realMain(context.Background(), args, &stdio{in: strings.NewReader(stdin), out: &out, err: &errb})
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

func TestKeysDeriveMatchesPublishedVectors(t *testing.T) {
	want := reference.Read(t, "en-vectors-144.txt")
	out, stderr, code := run(t, "", "keys", "derive", "--tek", "75c734c6dd1a782de7a965da5eb93125", "--enin", "2642976", "--count", "144", "--tx-power", "8")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sc := bufio.NewScanner(bytes.NewReader(want))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i := 0; sc.Scan(); i++ {
		wantLine := strings.Join([]string{strconv.Itoa(2642976 + i), sc.Text()}, " ")
		if i >= len(lines) || lines[i] != wantLine {
			t.Fatalf("line %d = %q, want %q", i, lines[min(i, len(lines)-1)], wantLine)
		}
	}
	if len(lines) != 144 {
		t.Fatalf("%d lines, want 144", len(lines))
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, "missing command"},
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"keys", "derive"}, "--tek and --enin are required"},
		{[]string{"keys", "derive", "--tek", "zz", "--enin", "1"}, "not hexadecimal"},
		{[]string{"keys", "derive", "--tek", "75c734c6dd1a782de7a965da5eb93125", "--enin", "-1"}, "interval number"},
		{[]string{"keys", "derive", "--tek", "75c734c6dd1a782de7a965da5eb93125", "--enin", "1", "--count", "0"}, "--count 0"},
		{[]string{"keys", "derive", "--bogus"}, "flag provided but not defined"},
		{[]string{"export", "inspect"}, "want exactly one FILE"},
		{[]string{"export", "sign"}, "--key and --out are required"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, stderr, code := run(t, "", tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestHelpGoesToStdout(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help", "keys"}, {"keys", "derive", "--help"}, {"export", "inspect", "-h"}} {
		out, stderr, code := run(t, "", args...)
		if code != 0 || stderr != "" || !strings.Contains(out, "Usage:") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, stderr)
		}
	}
}

// TestServeHelpNamesTheProxyHeaderFlag: the sign-in limits' proxy header is
// documented where operators look, with its environment variable.
func TestServeHelpNamesTheProxyHeaderFlag(t *testing.T) {
	out, _, code := run(t, "", "serve", "--help")
	if code != 0 || !strings.Contains(out, "-trusted-proxy-header") || !strings.Contains(out, "$BLUEZONE_TRUSTED_PROXY_HEADER") {
		t.Fatalf("exit %d, serve --help:\n%s", code, out)
	}
}

func TestKeysNew(t *testing.T) {
	out, _, code := run(t, "", "keys", "new", "--at", "2020-04-02T13:00:00Z")
	f := strings.Fields(out)
	if code != 0 || len(f) != 2 || len(f[0]) != 32 || f[1] != "2642976" {
		t.Fatalf("exit %d, output %q", code, out)
	}
	out2, _, _ := run(t, "", "keys", "new")
	if strings.Fields(out2)[0] == f[0] {
		t.Fatal("two fresh keys are equal")
	}
}

func TestInspectGoogleSample(t *testing.T) {
	zipPath := reference.Path(t, "gaen-testExport-2-records.zip")
	out, stderr, code := run(t, "", "export", "inspect", zipPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"region: US\n",
		"start_timestamp: 1590159600 ",
		// The six documented columns, then what the sample lacks.
		"172fc480e598490c34177604339b1543 2649980 1 UNKNOWN 8 0 absent=report_type+days_since_onset\n",
		"2b63053ac483238de176169e861f3dcd 2649866 114 UNKNOWN 1 0 absent=report_type+days_since_onset\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// A key that did not sign it: exit status 1.
	dir := t.TempDir()
	if _, stderr, code := run(t, "", "export", "keygen", "--private", filepath.Join(dir, "k.pem"), "--public", filepath.Join(dir, "p.pem")); code != 0 {
		t.Fatal(stderr)
	}
	out, stderr, code = run(t, "", "export", "inspect", zipPath, "--public-key", filepath.Join(dir, "p.pem"))
	if code != 1 || !strings.Contains(out, "signature: INVALID") || !strings.Contains(stderr, "signature does not verify") {
		t.Fatalf("exit %d, out %q, stderr %q", code, out, stderr)
	}
}

func TestSignInspectRoundTrip(t *testing.T) {
	dir := t.TempDir()
	priv, pub, zipPath := filepath.Join(dir, "priv.pem"), filepath.Join(dir, "pub.pem"), filepath.Join(dir, "out.zip")
	if _, stderr, code := run(t, "", "export", "keygen", "--private", priv, "--public", pub); code != 0 {
		t.Fatal(stderr)
	}
	if _, stderr, code := run(t, "", "export", "keygen", "--private", priv, "--public", pub); code != 1 || !strings.Contains(stderr, "exists") {
		t.Fatalf("keygen over existing files: exit %d, %s", code, stderr)
	}
	keys := "ffeeddccbbaa99887766554433221100,2833920,144,CONFIRMED_TEST,0,2\n" +
		"00112233445566778899aabbccddeeff 2834064 72 RECURSIVE 0 -3\n" +
		"0a112233445566778899aabbccddeeff 2833776 144 REVOKED 0 0\n"
	if _, stderr, code := run(t, keys, "export", "sign", "--key", priv, "--out", zipPath); code != 0 {
		t.Fatal(stderr)
	}
	out, stderr, code := run(t, "", "export", "inspect", "--public-key", pub, zipPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "signature: verified\nkeys: 2\n" +
		"00112233445566778899aabbccddeeff 2834064 72 RECURSIVE 0 -3\n" +
		"ffeeddccbbaa99887766554433221100 2833920 144 CONFIRMED_TEST 0 2\n" +
		"revised_keys: 1\n0a112233445566778899aabbccddeeff 2833776 144 REVOKED 0 0\n"
	if !strings.HasSuffix(out, want) {
		t.Fatalf("inspect output:\n%s\nwant suffix:\n%s", out, want)
	}
	// Bad input leaves no file behind.
	bad := filepath.Join(dir, "bad.zip")
	if _, stderr, code := run(t, "nothex 1\n", "export", "sign", "--key", priv, "--out", bad); code != 1 || !strings.Contains(stderr, "line 1") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(bad); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("bad.zip: %v", err)
	}
}
