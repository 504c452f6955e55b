package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

func codesCommand() *command {
	return &command{
		name:    "codes",
		summary: "issue, revoke and look up verification codes from the operator's shell (same database as serve)",
		subs:    []*command{codesIssueCommand(), codesRevokeCommand(), codesStatusCommand()},
	}
}

func codesIssueCommand() *command {
	return &command{
		name: "issue",
		args: "--date YYYY-MM-DD",
		summary: describe(
			"Issues a one-time code for a confirmed person and prints 'CODE ID EXPIRES_AT'.",
			"F0: --report-type CONFIRMED_TEST or CONFIRMED_CLINICAL_DIAGNOSIS, --date the symptom onset",
			"or test date. F1 (for F2 warnings): --report-type RECURSIVE, --date the exposure date."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			sf := addServerFlags(fs)
			sf.existing = true
			date := fs.String("date", "", "symptom onset/test date (F0) or exposure date (F1), YYYY-MM-DD (required)")
			rt := fs.String("report-type", "CONFIRMED_TEST", "CONFIRMED_TEST, CONFIRMED_CLINICAL_DIAGNOSIS or RECURSIVE")
			long := fs.Bool("long", false, "a 16-character code valid 24 h instead of 8 digits valid 15 min")
			by := fs.String("by", "operator", "who issues the code, for the audit log")
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 0 || *date == "" {
					return usageErrorf("codes issue: want --date YYYY-MM-DD")
				}
				d, err := time.Parse(time.DateOnly, *date)
				if err != nil {
					return usageErrorf("codes issue: --date: %v", err)
				}
				reportType, err := export.ParseReportType(*rt)
				if err != nil {
					return usageErrorf("codes issue: %v", err)
				}
				s, db, err := sf.open(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					return err
				}
				defer db.Close()
				c, err := s.IssueCode(ctx, server.IssueRequest{ReportType: reportType, TestDate: d, Long: *long, IssuedBy: *by})
				if err != nil {
					return err
				}
				if err := s.FlushStats(ctx); err != nil {
					return err
				}
				_, err = fmt.Fprintf(st.out, "%s %d %s\n", c.Code, c.ID, c.ExpiresAt.Format(time.RFC3339))
				return err
			}
		},
	}
}

func codesRevokeCommand() *command {
	return &command{
		name:    "revoke",
		args:    "ID",
		summary: "Revokes a code by ID; keys already published with it go out as REVOKED in the next export.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			sf := addServerFlags(fs)
			sf.existing = true
			by := fs.String("by", "operator", "who revokes the code, for the audit log")
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 1 {
					return usageErrorf("codes revoke: want one ID")
				}
				id, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil {
					return usageErrorf("codes revoke: ID %q: %v", args[0], err)
				}
				s, db, err := sf.open(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					return err
				}
				defer db.Close()
				n, err := s.RevokeCode(ctx, id, *by)
				if err != nil {
					return fmt.Errorf("codes revoke %d: %w", id, err)
				}
				if err := s.FlushStats(ctx); err != nil {
					return err
				}
				_, err = fmt.Fprintf(st.out, "revoked code %d and %d published keys\n", id, n)
				return err
			}
		},
	}
}
