package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// errUsage marks errors in how a command was called (exit status 2).
var errUsage = errors.New("usage error")

func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// command is a node of the command tree: either it has subcommands or it runs.
type command struct {
	name    string
	args    string // synopsis of the arguments after the name
	summary string
	// flags declares the command's flags on fs and returns the function that
	// runs it with the positional arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, st *stdio, args []string) error
	subs  []*command
}

func rootCommand() *command {
	return &command{
		name:    "bluezone",
		summary: "privacy-preserving Bluetooth contact tracing (Exposure Notification compatible)",
		subs:    []*command{serveCommand(), simCommand(), codesCommand(), adminCommand(), apikeyCommand(), phoneCommand(), keysCommand(), exportCommand(), riskCommand(), signingKeyCommand(), healthcheckCommand()},
	}
}

func (c *command) run(ctx context.Context, st *stdio, args []string) error {
	return c.runPath(ctx, st, args, c.name)
}

func (c *command) runPath(ctx context.Context, st *stdio, args []string, path string) error {
	if len(c.subs) > 0 {
		if len(args) == 0 {
			c.printHelp(st.err, path)
			return usageErrorf("%s: missing command", path)
		}
		switch args[0] {
		case "help", "-h", "-help", "--help":
			if len(args) > 1 {
				if sub := c.sub(args[1]); sub != nil {
					return sub.runPath(ctx, st, []string{"--help"}, path+" "+sub.name)
				}
			}
			c.printHelp(st.out, path)
			return nil
		}
		sub := c.sub(args[0])
		if sub == nil {
			return usageErrorf("%s: unknown command %q (see '%s help')", path, args[0], path)
		}
		return sub.runPath(ctx, st, args[1:], path+" "+sub.name)
	}
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	runFn := c.flags(fs)
	// Package flag would print errors and usage itself; errors are returned
	// instead, and --help goes to standard output.
	fs.SetOutput(io.Discard)
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.printFlagsHelp(st.out, fs, path)
		return nil
	}
	if err != nil {
		return usageErrorf("%s: %v (see '%s --help')", path, err, path)
	}
	return runFn(ctx, st, pos)
}

// parseFlags sets fs from the environment (setFromEnv), then from args. A
// request for help wins over a malformed environment variable, so that
// --help always works.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	envErr := setFromEnv(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	return pos, envErr
}

func (c *command) sub(name string) *command {
	for _, s := range c.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (c *command) printHelp(w io.Writer, path string) {
	fmt.Fprintf(w, "%s — %s\n\nUsage: %s <command> [flags]\n\nCommands:\n", path, c.summary, path)
	for _, s := range c.subs {
		first, _, _ := strings.Cut(s.summary, "\n") // the listing shows the first line
		fmt.Fprintf(w, "  %-14s %s\n", s.name, first)
	}
	fmt.Fprintf(w, "\nRun '%s help <command>' or '%s <command> --help' for details.\n", path, path)
}

func (c *command) printFlagsHelp(w io.Writer, fs *flag.FlagSet, path string) {
	fs.SetOutput(w)
	defer fs.SetOutput(io.Discard)
	fmt.Fprintf(w, "Usage: %s [flags] %s\n\n%s\n", path, c.args, c.summary)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
}

// parseInterleaved parses flags that may stand before, between or after the
// positional arguments (`inspect FILE --public-key K`), which package flag
// alone does not allow. A lone "--" ends flag parsing, and a negative number
// (an RSSI such as -65) is a positional argument, not a flag.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		for len(args) > 0 && isNegativeNumber(args[0]) {
			pos, args = append(pos, args[0]), args[1:]
		}
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// fs.Parse stops at a non-flag, or after "--" which it consumes.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func isNegativeNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && strings.HasPrefix(s, "-")
}

// describe joins lines of a long command description.
func describe(lines ...string) string { return strings.Join(lines, "\n") }
