//go:build unix

package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

// serveProc is one `bluezone serve` process (this test binary as main, see
// TestMain), on its own loopback port.
type serveProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *bytes.Buffer
	base string
	done chan struct{} // closed when the process has ended
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startServe(t *testing.T, addr string, args ...string) *serveProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProc{t: t, out: &bytes.Buffer{}, base: "http://" + addr}
	p.cmd = exec.Command(exe, append([]string{"serve", "--addr", addr}, args...)...)
	p.cmd.Env = append(os.Environ(), asMainEnv+"=1")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(p.base + "/healthz"); err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("serve %v ended:\n%s", args, p.out)
		default:
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("serve %v did not come up in 20 s:\n%s", args, p.out)
		}
	}
}

func (p *serveProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	if p.t.Failed() {
		p.t.Logf("%s:\n%s", p.base, p.out)
	}
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, resp.Status, err)
	}
	return b
}

// publicKey returns the server's export key, once its worker published it.
func publicKey(t *testing.T, base string) []byte {
	t.Helper()
	var pem []byte
	waitFor(t, base+"/exports/public.pem", func() bool {
		resp, err := http.Get(base + "/exports/public.pem")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		pem, err = io.ReadAll(resp.Body)
		return err == nil && resp.StatusCode == http.StatusOK
	})
	return pem
}

// index returns the files a server lists, by name.
func index(t *testing.T, base string) map[string]*export.Archive {
	t.Helper()
	ix, err := tryIndex(base)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// tryIndex is index for waitFor: the server may not have written its
// index.txt yet.
func tryIndex(base string) (map[string]*export.Archive, error) {
	get := func(url string) ([]byte, error) {
		resp, err := http.Get(url)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return io.ReadAll(resp.Body)
	}
	b, err := get(base + "/exports/index.txt")
	if err != nil {
		return nil, err
	}
	out := map[string]*export.Archive{}
	for _, name := range strings.Fields(string(b)) {
		if out[name] != nil {
			return nil, fmt.Errorf("%s lists %s twice", base, name)
		}
		data, err := get(base + "/exports/" + name)
		if err != nil {
			return nil, err
		}
		if out[name], err = export.Read(data); err != nil {
			return nil, fmt.Errorf("%s/exports/%s: %w", base, name, err)
		}
	}
	return out, nil
}

// waitFor polls cond every 100 ms for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("no %s after 30 s", what)
		}
	}
}

// TestFederationTwoServers runs two `bluezone serve` processes on loopback,
// AA and BB, following each other, and a third follow, CC, a plain file
// server with a file made by `export sign` whose keys lack fields:
//   - a case on AA warns a phone of BB, a case on BB warns a phone of AA;
//   - a file of AA tampered with after signing, and one of CC signed by
//     another key, are refused by BB, and the files after them imported;
//   - no key goes round: each server lists each key once, and what it
//     took from the other under that one's region only;
//   - fields are kept: BB's copy of CC's file prints, with
//     `export inspect`, the same key lines as the original, absent= marks
//     included;
//   - both come back after a restart without importing anything twice.
func TestFederationTwoServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	dir := t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		out, stderr, code := run(t, "", args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
		return out
	}
	aDir, bDir := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	aAddr, bAddr := freeAddr(t), freeAddr(t)
	common := []string{"--demo-release-now", "--export-every", "300ms", "--follow-every", "300ms", "--min-batch-keys", "3"}
	serveA := func(follow ...string) *serveProc {
		return startServe(t, aAddr, append(append([]string{"--data-dir", aDir, "--region", "AA"}, common...), follow...)...)
	}
	a := serveA()
	aPEM := filepath.Join(dir, "aa.pem")
	os.WriteFile(aPEM, publicKey(t, a.base), 0o644)

	// CC: keys without days since onset, report type and transmission risk.
	must("export", "keygen", "--private", filepath.Join(dir, "cc-priv.pem"), "--public", filepath.Join(dir, "cc.pem"))
	ccDir := filepath.Join(dir, "cc")
	os.MkdirAll(filepath.Join(ccDir, "CC"), 0o755)
	today := int(time.Now().Unix()/600/144*144) - 144
	ccLines := fmt.Sprintf("0c112233445566778899aabbccddeeff %d 144 UNKNOWN 0 0 absent=report_type+transmission_risk+days_since_onset\n"+
		"0d112233445566778899aabbccddeeff %d 144 CONFIRMED_TEST 0 0\n", today, today)
	if _, stderr, code := run(t, ccLines, "export", "sign", "--key", filepath.Join(dir, "cc-priv.pem"), "--region", "CC", "--out", filepath.Join(ccDir, "CC", "1-2.zip")); code != 0 {
		t.Fatal(stderr)
	}
	// Before it, a file signed by another key than CC's pinned one.
	must("export", "keygen", "--private", filepath.Join(dir, "other-priv.pem"), "--public", filepath.Join(dir, "other.pem"))
	if _, stderr, code := run(t, ccLines, "export", "sign", "--key", filepath.Join(dir, "other-priv.pem"), "--region", "CC", "--out", filepath.Join(ccDir, "CC", "0-1.zip")); code != 0 {
		t.Fatal(stderr)
	}
	os.WriteFile(filepath.Join(ccDir, "index.txt"), []byte("CC/0-1.zip\nCC/1-2.zip\n"), 0o644)
	cc := httptest.NewServer(http.FileServer(http.Dir(ccDir)))
	defer cc.Close()

	// Phones: p1 and p2 are AA's cases; q, BB's user, met p2.
	meet := func(caseDir, contactDir string) {
		t.Helper()
		must("phone", "create", "--dir", caseDir)
		must("phone", "create", "--dir", contactDir)
		for i := range 10 {
			at := fmt.Sprint(time.Now().Unix() - 7200 + int64(i)*120)
			payload := strings.Fields(must("phone", "advertise-now", "--dir", caseDir, "--at", at))[0]
			must("phone", "hear", "--dir", contactDir, payload, "-66", at)
		}
	}
	upload := func(dataDir, caseDir, base string) {
		t.Helper()
		code := strings.Fields(must("codes", "issue", "--data-dir", dataDir, "--date", time.Now().UTC().Format(time.DateOnly)))[0]
		key := strings.Fields(must("apikey", "create", "--data-dir", dataDir, "--name", "vn.gov.bluezone"))[0]
		must("phone", "upload", "--dir", caseDir, "--server", base, "--api-key", key, "--code", code)
	}
	p1, p2, q := filepath.Join(dir, "p1"), filepath.Join(dir, "p2"), filepath.Join(dir, "q")
	must("phone", "create", "--dir", p1)
	must("phone", "advertise-now", "--dir", p1)
	meet(p2, q)

	// Case 1's file is tampered with on AA's disk; case 2's is not.
	upload(aDir, p1, a.base)
	var first string
	waitFor(t, "first export of AA", func() bool {
		ix, _ := tryIndex(a.base)
		for name := range ix {
			first = name
		}
		return first != ""
	})
	path := filepath.Join(aDir, "exports", first)
	good, _ := os.ReadFile(path)
	os.WriteFile(path, tamper(t, good), 0o644)
	upload(aDir, p2, a.base)
	waitFor(t, "second export of AA", func() bool { ix, _ := tryIndex(a.base); return len(ix) == 2 })

	b := startServe(t, bAddr, append(append([]string{"--data-dir", bDir, "--region", "BB"}, common...),
		"--follow", "AA,"+a.base+"/exports/index.txt,"+aPEM, "--follow", "CC,"+cc.URL+"/index.txt,"+filepath.Join(dir, "cc.pem"))...)
	bPEM := filepath.Join(dir, "bb.pem")
	os.WriteFile(bPEM, publicKey(t, b.base), 0o644)
	waitFor(t, "AA's good file and CC's on BB", func() bool {
		ix, _ := tryIndex(b.base)
		return len(ix) == 2
	})
	bIndex := index(t, b.base)
	if _, ok := bIndex[first]; ok {
		t.Errorf("BB offers %s, which was tampered with", first)
	}
	if _, ok := bIndex["CC/0-1.zip"]; ok {
		t.Error("BB offers CC/0-1.zip, which another key signed")
	}
	if !strings.Contains(b.out.String(), "file refused") || !strings.Contains(b.out.String(), "signature does not verify") {
		t.Errorf("BB does not log the refusal")
	}
	out := must("phone", "sync", "--dir", q, "--server", b.base, "--trust-server-key")
	if !strings.Contains(out, "\nwarning: F1 on ") {
		t.Fatalf("BB's phone met AA's case but is not warned:\n%s", out)
	}

	// Fields kept: inspect prints CC's lines, absent= marks included.
	ccCopy := filepath.Join(dir, "cc-copy.zip")
	os.WriteFile(ccCopy, httpGet(t, b.base+"/exports/CC/1-2.zip"), 0o644)
	keyLines := func(path, pub string) string {
		out := must("export", "inspect", path, "--public-key", pub)
		return out[strings.Index(out, "keys: "):]
	}
	if got, want := keyLines(ccCopy, bPEM), keyLines(filepath.Join(ccDir, "CC", "1-2.zip"), filepath.Join(dir, "cc.pem")); got != want || !strings.Contains(got, "absent=") {
		t.Errorf("BB's copy of CC's file:\n%s\nwant:\n%s", got, want)
	}

	os.WriteFile(path, good, 0o644) // for AA's own phones

	// AA restarts following BB; BB's case r warns AA's phone s.
	a.stop()
	a = serveA("--follow", "BB,"+b.base+"/exports/index.txt,"+bPEM)
	r, s := filepath.Join(dir, "r"), filepath.Join(dir, "s")
	meet(r, s)
	upload(bDir, r, b.base)
	waitFor(t, "BB's file on AA", func() bool {
		ix, _ := tryIndex(a.base)
		for name := range ix {
			if strings.HasPrefix(name, "BB/") {
				return true
			}
		}
		return false
	})
	out = must("phone", "sync", "--dir", s, "--server", a.base, "--trust-server-key")
	if !strings.Contains(out, "\nwarning: F1 on ") {
		t.Fatalf("AA's phone met BB's case but is not warned:\n%s", out)
	}

	// A few more rounds of both workers, a restart of BB, and the same.
	b.stop()
	b = startServe(t, bAddr, append(append([]string{"--data-dir", bDir, "--region", "BB"}, common...),
		"--follow", "AA,"+a.base+"/exports/index.txt,"+aPEM, "--follow", "CC,"+cc.URL+"/index.txt,"+filepath.Join(dir, "cc.pem"))...)
	time.Sleep(2 * time.Second)
	aIndex, bIndex := index(t, a.base), index(t, b.base)
	checkNoLoops(t, "AA", aIndex, bIndex)
	checkNoLoops(t, "BB", bIndex, aIndex)
	for name, copy := range bIndex {
		if orig, ok := aIndex[name]; ok && strings.HasPrefix(name, "AA/") {
			if !sameKeys(orig.File, copy.File) {
				t.Errorf("BB's %s differs from AA's", name)
			}
		}
	}
}

// checkNoLoops: every file is in the folder of the region its header
// names; each key of region's own files is listed once by its server and
// at most once by the other, which lists none that its origin does not.
func checkNoLoops(t *testing.T, region string, own, other map[string]*export.Archive) {
	t.Helper()
	keys := func(ix map[string]*export.Archive) map[[16]byte]int {
		count := map[[16]byte]int{}
		for name, a := range ix {
			if !strings.HasPrefix(name, a.File.Region+"/") {
				t.Errorf("%s has region %s in its header", name, a.File.Region)
			}
			if a.File.Region == region {
				for _, k := range append(a.File.Keys, a.File.Revised...) {
					count[k.Data]++
				}
			}
		}
		return count
	}
	mine, copies := keys(own), keys(other)
	if len(mine) == 0 || len(copies) == 0 {
		t.Errorf("%s: %d keys, %d copied: the test saw no federation", region, len(mine), len(copies))
	}
	for _, n := range mine {
		if n != 1 {
			t.Errorf("a key of %s is listed %d times by its own server", region, n)
		}
	}
	for k, n := range copies {
		if n != 1 || mine[k] != 1 {
			t.Errorf("a key of %s is listed %d times by the other server, %d by its own", region, n, mine[k])
		}
	}
}

func sameKeys(a, b *export.File) bool {
	ka, kb := append(a.Keys, a.Revised...), append(b.Keys, b.Revised...)
	if len(ka) != len(kb) {
		return false
	}
	for i := range ka {
		if ka[i] != kb[i] {
			return false
		}
	}
	return a.Region == b.Region && a.Start.Equal(b.Start) && a.End.Equal(b.End)
}

// tamper changes one key of a signed export zip and keeps its signature.
func tamper(t *testing.T, data []byte) []byte {
	t.Helper()
	a, err := export.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	a.File.Keys[0].Data[0] ^= 1
	bin, err := export.MarshalBin(a.File)
	if err != nil {
		t.Fatal(err)
	}
	zr, _ := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		content := bin
		if zf.Name != export.BinName {
			rc, _ := zf.Open()
			content, _ = io.ReadAll(rc)
			rc.Close()
		}
		w, _ := zw.Create(zf.Name)
		w.Write(content)
	}
	zw.Close()
	return buf.Bytes()
}
