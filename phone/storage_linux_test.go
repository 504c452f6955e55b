package phone_test

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/bluezone-vn/bluezone/phone"
)

// TestLogWriteFailureIsReported: a log write the file system refuses (here:
// past the process's file size limit, RLIMIT_FSIZE) is an error from
// WriteLog, not a success followed by an fsync of what was not written. The
// limit is set in a child process, so that no other test's files meet it.
func TestLogWriteFailureIsReported(t *testing.T) {
	if dir := os.Getenv("BLUEZONE_TEST_FSIZE_DIR"); dir != "" {
		st, err := phone.NewDirStorage(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.WriteLog(1, 0, make([]byte, 1000)); err != nil {
			t.Fatalf("a write below the limit: %v", err)
		}
		// Go ignores SIGXFSZ, so the write past the limit fails with EFBIG.
		// The soft limit alone is lowered, and restored before the test
		// binary writes anything of its own (a coverage profile, say).
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatal(err)
		}
		low := lim
		low.Cur = 4096
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &low); err != nil {
			t.Fatalf("setrlimit: %v", err)
		}
		err = st.WriteLog(1, 1000, make([]byte, 8192))
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			t.Fatalf("restoring the limit: %v", err)
		}
		if err == nil {
			t.Fatal("a write past the file size limit was reported as written")
		}
		t.Logf("refused: %v", err)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLogWriteFailureIsReported$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "BLUEZONE_TEST_FSIZE_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}
