// Command bluezone is the one binary of the Bluezone contact-tracing system:
// the health authority's server, a virtual phone, the simulator, and tools
// for keys and export files. Run `bluezone help` for the commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := realMain(ctx, os.Args[1:], &stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// stdio carries the streams a command reads and writes, so tests can run
// commands in process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

func realMain(ctx context.Context, args []string, st *stdio) error {
	return rootCommand().run(ctx, st, args)
}

// exitCode prints err and maps it to the exit status: 0 ok, 2 bad usage, 1 anything else.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "bluezone:", err)
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}
