//go:build unix

package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// asMainEnv makes the test binary act as the bluezone binary (see
// TestMain), so that TestReadmeWalkthrough runs the README's shell lines
// against this very code without building it first.
const asMainEnv = "BLUEZONE_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main() // exits
	}
	os.Exit(m.Run())
}

// readmeBlocks returns the sh code blocks of the README section that starts
// with heading.
func readmeBlocks(t *testing.T, heading string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q", heading)
	}
	s = s[i+len(heading):]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	var blocks []string
	for {
		i := strings.Index(s, "```sh\n")
		if i < 0 {
			return blocks
		}
		s = s[i+len("```sh\n"):]
		j := strings.Index(s, "```")
		blocks = append(blocks, s[:j])
		s = s[j+3:]
	}
}

// TestReadmeWalkthrough runs the README's "Play a whole contact from the
// shell" as written: its first block (serve) in the background and its
// second with sh, in a fresh directory where ./bluezone is this test binary.
// The only change is the port: 8080 may be taken on a shared machine. The
// contact's phone must end warned.
func TestReadmeWalkthrough(t *testing.T) {
	blocks := readmeBlocks(t, "### Play a whole contact from the shell")
	if len(blocks) != 2 || !strings.HasPrefix(blocks[0], "./bluezone serve ") || strings.Count(blocks[0], "\n") != 1 {
		t.Fatalf("want two sh blocks, the first the one serve line; got %q", blocks)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(dir, "bluezone")); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append(os.Environ(), asMainEnv+"=1", "BLUEZONE_ADDR="+addr)
	sh := func(ctx context.Context, script string) *exec.Cmd {
		c := exec.CommandContext(ctx, "sh", "-ec", strings.ReplaceAll(script, "127.0.0.1:8080", addr))
		c.Dir, c.Env = dir, env
		// Its own process group, so that the children go too when it is killed.
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
		return c
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var serveOut bytes.Buffer
	serve := sh(ctx, "exec "+blocks[0])
	serve.Stdout, serve.Stderr = &serveOut, &serveOut
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-serve.Process.Pid, syscall.SIGTERM)
		serve.Wait()
		if t.Failed() {
			t.Logf("serve:\n%s", serveOut.String())
		}
	}()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatal("serve did not come up in 20 s")
		}
	}

	out, err := sh(ctx, blocks[1]).CombinedOutput()
	if err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if !strings.Contains(string(out), "\nwarning: F1 on ") || !strings.Contains(string(out), "\nexport: the last key is released after ") {
		t.Fatalf("the walkthrough ends without a warning:\n%s", out)
	}
	if !strings.Contains(serveOut.String(), "DEMO MODE") {
		t.Errorf("serve does not say it runs in demo mode:\n%s", serveOut.String())
	}
}
