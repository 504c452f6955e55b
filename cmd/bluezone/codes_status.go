package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

func codesStatusCommand() *command {
	return &command{
		name: "status",
		args: "UUID|ID",
		summary: describe(
			"Prints what officials may know of a code, one 'name: value' line each:",
			"uuid, id, report_type, date, issued, expires, used, revoked, status",
			"(open, used, expired or revoked). When or by whom a code was used is not kept;",
			"a used code's issue time is only its day and its expiry is '-'."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			sf := addServerFlags(fs)
			sf.existing = true
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 1 {
					return usageErrorf("codes status: want one UUID or ID")
				}
				s, db, err := sf.open(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					return err
				}
				defer db.Close()
				c, err := s.LookupCode(ctx, args[0])
				switch {
				case errors.Is(err, server.ErrBadCodeRef):
					return usageErrorf("codes status: %v", err)
				case errors.Is(err, store.ErrNotFound):
					return fmt.Errorf("codes status %s: no such code (codes are deleted 14 days after they expire or their keys do)", args[0])
				case err != nil:
					return fmt.Errorf("codes status %s: %w", args[0], err)
				}
				issued, expires := c.IssuedAt.UTC().Format(time.RFC3339), "-"
				if c.IssuedDay {
					issued = c.IssuedAt.UTC().Format(time.DateOnly)
				}
				if c.ExpiresAt != nil {
					expires = c.ExpiresAt.UTC().Format(time.RFC3339)
				}
				yes := map[bool]string{true: "yes", false: "no"}
				_, err = fmt.Fprintf(st.out, "uuid: %s\nid: %d\nreport_type: %s\ndate: %s\nissued: %s\nexpires: %s\nused: %s\nrevoked: %s\nstatus: %s\n",
					c.UUID, c.ID, c.ReportType, time.Unix(c.TestDay*86400, 0).UTC().Format(time.DateOnly), issued, expires, yes[c.Used], yes[c.Revoked], c.State())
				return err
			}
		},
	}
}
