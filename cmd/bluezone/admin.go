package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

func adminCommand() *command {
	return &command{
		name: "admin",
		summary: describe(
			"manage portal accounts from the operator's shell, for recovery (same database as serve)",
			"Every change is in the portal's audit log, by \"shell:USER\" (or --by)."),
		subs: []*command{
			adminListCommand(), adminCreateCommand(), adminResetPasswordCommand(), adminResetTOTPCommand(),
			adminSetRoleCommand(), adminEnableCommand("enable", false), adminEnableCommand("disable", true),
		},
	}
}

// shellActor names who acts from the shell in the audit log.
func shellActor() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	return "shell:" + name
}

// adminFlags are the flags every admin command has.
type adminFlags struct {
	sf *serverFlags
	by *string
}

func addAdminFlags(fs *flag.FlagSet) adminFlags {
	sf := addServerFlags(fs)
	sf.existing = true
	return adminFlags{sf: sf, by: fs.String("by", shellActor(), "who acts, for the audit log")}
}

func (f adminFlags) open(ctx context.Context) (*server.Server, func(), error) {
	s, db, err := f.sf.open(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, nil, err
	}
	return s, func() { db.Close() }, nil
}

func portalURLFlag(fs *flag.FlagSet) *string {
	return fs.String("portal-url", "http://127.0.0.1:8080", "the portal's address as officials reach it, for printed links [$BLUEZONE_PORTAL_URL]")
}

// printLink prints a set-password link and its expiry: 'LINK EXPIRES_AT'.
func printLink(w io.Writer, base, token string, expires time.Time) error {
	_, err := fmt.Fprintf(w, "%s%s %s\n", strings.TrimSuffix(base, "/"), server.ResetLinkPath(token), expires.UTC().Format(time.RFC3339))
	return err
}

// accountErr makes store errors readable at the shell.
func accountErr(cmd, email string, err error) error {
	switch {
	case errors.Is(err, store.ErrLastAdmin):
		return fmt.Errorf("%s %s: %w (make another account an administrator first)", cmd, email, store.ErrLastAdmin)
	case errors.Is(err, server.ErrNoSuchOfficial):
		return fmt.Errorf("%s: no account has the email %s (see 'bluezone admin list')", cmd, email)
	}
	return fmt.Errorf("%s %s: %w", cmd, email, err)
}

func emailFlag(fs *flag.FlagSet) *string {
	return fs.String("email", "", "the account's email (required)")
}

func adminListCommand() *command {
	return &command{
		name:    "list",
		summary: "Lists the accounts: EMAIL ROLE STATUS TOTP NAME, one a line, in aligned columns.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			af := addAdminFlags(fs)
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 0 {
					return usageErrorf("admin list: unexpected arguments %q", args)
				}
				s, done, err := af.open(ctx)
				if err != nil {
					return err
				}
				defer done()
				list, err := s.Officials(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(st.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "EMAIL\tROLE\tSTATUS\tTOTP\tNAME")
				for _, o := range list {
					status, factor := "active", "none"
					if o.Disabled {
						status = "disabled"
					}
					if o.TOTPSecret != "" {
						factor = "enrolled"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Email, o.Role, status, factor, o.Name)
				}
				return tw.Flush()
			}
		},
	}
}

func adminCreateCommand() *command {
	return &command{
		name: "create",
		args: "--email E --role admin|official|viewer",
		summary: describe(
			"Creates an account and prints a one-time link with which its owner sets the password.",
			"The output is 'LINK EXPIRES_AT' (the link works once, for 24 h). With --password-stdin it reads",
			"the password from the first line of standard input instead and prints 'created EMAIL as ROLE'.",
			"A new administrator enrols a second factor (TOTP) at the first sign-in."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			af := addAdminFlags(fs)
			email := emailFlag(fs)
			role := fs.String("role", "", "admin, official or viewer (required)")
			name := fs.String("name", "", "the owner's name (default: the email)")
			fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (never from a flag: flags show in ps and shell history)")
			base := portalURLFlag(fs)
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 0 || *email == "" || *role == "" {
					return usageErrorf("admin create: want --email E --role admin|official|viewer")
				}
				password := ""
				if *fromStdin {
					line, err := bufio.NewReader(st.in).ReadString('\n')
					if err != nil && !errors.Is(err, io.EOF) {
						return fmt.Errorf("admin create: read the password: %w", err)
					}
					if password = strings.TrimRight(line, "\r\n"); password == "" {
						return usageErrorf("admin create: --password-stdin: standard input has no password")
					}
				}
				s, done, err := af.open(ctx)
				if err != nil {
					return err
				}
				defer done()
				_, tok, exp, err := s.CreateOfficialAccount(ctx, *af.by, *email, *name, *role, password)
				if err != nil {
					return fmt.Errorf("admin create: %w", err)
				}
				if tok == "" {
					_, err = fmt.Fprintf(st.out, "created %s as %s\n", strings.ToLower(*email), *role)
					return err
				}
				return printLink(st.out, *base, tok, exp)
			}
		},
	}
}

// withAccount runs fn on the account of --email.
func withAccount(cmd string, af adminFlags, email *string, fn func(ctx context.Context, st *stdio, s *server.Server, o store.Official) error) func(context.Context, *stdio, []string) error {
	return func(ctx context.Context, st *stdio, args []string) error {
		if len(args) != 0 || *email == "" {
			return usageErrorf("%s: want --email E", cmd)
		}
		s, done, err := af.open(ctx)
		if err != nil {
			return err
		}
		defer done()
		o, err := s.OfficialByEmail(ctx, *email)
		if err != nil {
			return accountErr(cmd, *email, err)
		}
		if err := fn(ctx, st, s, o); err != nil {
			return accountErr(cmd, *email, err)
		}
		return nil
	}
}

func adminResetPasswordCommand() *command {
	return &command{
		name: "reset-password",
		args: "--email E",
		summary: describe(
			"Prints a one-time link with which the account's owner sets a new password.",
			"The output is 'LINK EXPIRES_AT' (the link works once, for 24 h). Older links stop working;",
			"the current password works until the link is used."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			af := addAdminFlags(fs)
			email := emailFlag(fs)
			base := portalURLFlag(fs)
			run := withAccount("admin reset-password", af, email, func(ctx context.Context, st *stdio, s *server.Server, o store.Official) error {
				tok, exp, err := s.IssuePasswordReset(ctx, *af.by, o.ID)
				if err != nil {
					return err
				}
				return printLink(st.out, *base, tok, exp)
			})
			return run
		},
	}
}

func adminResetTOTPCommand() *command {
	return &command{
		name: "reset-totp",
		args: "--email E",
		summary: describe("Removes the account's second factor (a lost phone) and ends its sessions.",
			"An administrator (or anyone, when the portal requires it of all) enrols a new one at the next sign-in."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			af := addAdminFlags(fs)
			email := emailFlag(fs)
			run := withAccount("admin reset-totp", af, email, func(ctx context.Context, st *stdio, s *server.Server, o store.Official) error {
				if err := s.ResetOfficialTOTP(ctx, *af.by, o.ID); err != nil {
					return err
				}
				_, err := fmt.Fprintf(st.out, "second factor of %s removed\n", o.Email)
				return err
			})
			return run
		},
	}
}

func adminSetRoleCommand() *command {
	return &command{
		name:    "set-role",
		args:    "--email E --role admin|official|viewer",
		summary: "Changes the account's role; the last enabled administrator keeps theirs.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			af := addAdminFlags(fs)
			email := emailFlag(fs)
			role := fs.String("role", "", "admin, official or viewer (required)")
			run := withAccount("admin set-role", af, email, func(ctx context.Context, st *stdio, s *server.Server, o store.Official) error {
				if err := s.SetOfficialRole(ctx, *af.by, o.ID, *role); err != nil {
					return err
				}
				_, err := fmt.Fprintf(st.out, "%s is now %s\n", o.Email, *role)
				return err
			})
			return func(ctx context.Context, io *stdio, args []string) error {
				if *role == "" {
					return usageErrorf("admin set-role: want --email E --role admin|official|viewer")
				}
				return run(ctx, io, args)
			}
		},
	}
}

func adminEnableCommand(name string, disable bool) *command {
	summary := "Enables a disabled account again."
	if disable {
		summary = describe("Disables an account and ends its sessions.", "The last enabled administrator cannot be disabled.")
	}
	return &command{
		name:    name,
		args:    "--email E",
		summary: summary,
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			af := addAdminFlags(fs)
			email := emailFlag(fs)
			run := withAccount("admin "+name, af, email, func(ctx context.Context, st *stdio, s *server.Server, o store.Official) error {
				if err := s.SetOfficialDisabled(ctx, *af.by, o.ID, disable); err != nil {
					return err
				}
				_, err := fmt.Fprintf(st.out, "%s %sd\n", o.Email, name)
				return err
			})
			return run
		},
	}
}
