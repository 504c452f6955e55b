package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"
)

func apikeyCommand() *command {
	return &command{
		name:    "apikey",
		summary: "register apps for the app API: their API keys (same database as serve)",
		subs:    []*command{apikeyCreateCommand(), apikeyRevokeCommand(), apikeyListCommand()},
	}
}

func apikeyCreateCommand() *command {
	return &command{
		name: "create",
		args: "--name APP",
		summary: describe(
			"Registers an app and prints its new API key (shown only this once), then 'ID NAME PLATFORM'.",
			"--name is the app's Android package name or iOS bundle ID: apps send the key as X-API-Key",
			"to /api/verify and /api/certificate, and the name as healthAuthorityID to /v1/publish."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			sf := addServerFlags(fs)
			sf.existing = true
			name := fs.String("name", "", "the app's package name or bundle ID (required)")
			platform := fs.String("platform", "android", "android, ios, linux, web or other")
			by := fs.String("by", "operator", "who registers the app, for the audit log")
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 0 || *name == "" {
					return usageErrorf("apikey create: want --name APP")
				}
				s, db, err := sf.open(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					return err
				}
				defer db.Close()
				k, err := s.CreateAPIKey(ctx, *name, *platform, *by)
				if err != nil {
					return usageErrorf("%v", err)
				}
				_, err = fmt.Fprintf(st.out, "%s\n%d %s %s\n", k.Key, k.ID, k.Name, k.Platform)
				return err
			}
		},
	}
}

func apikeyRevokeCommand() *command {
	return &command{
		name:    "revoke",
		args:    "ID",
		summary: "Revokes an app's API key by ID: its requests are refused from now on.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			sf := addServerFlags(fs)
			sf.existing = true
			by := fs.String("by", "operator", "who revokes the key, for the audit log")
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 1 {
					return usageErrorf("apikey revoke: want one ID")
				}
				id, err := strconv.ParseInt(args[0], 10, 64)
				if err != nil {
					return usageErrorf("apikey revoke: ID %q: %v", args[0], err)
				}
				s, db, err := sf.open(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					return err
				}
				defer db.Close()
				k, err := s.RevokeAPIKey(ctx, id, *by)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(st.out, "revoked API key %d of %s (%s)\n", k.ID, k.Name, k.Platform)
				return err
			}
		},
	}
}

func apikeyListCommand() *command {
	return &command{
		name:    "list",
		summary: "Lists the registered apps: 'ID NAME PLATFORM KEY_PREFIX CREATED active|revoked'.",
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			sf := addServerFlags(fs)
			sf.existing = true
			return func(ctx context.Context, st *stdio, args []string) error {
				s, db, err := sf.open(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
				if err != nil {
					return err
				}
				defer db.Close()
				keys, err := s.APIKeys(ctx)
				if err != nil {
					return err
				}
				for _, k := range keys {
					status := "active"
					if k.RevokedAt != nil {
						status = "revoked"
					}
					fmt.Fprintf(st.out, "%d %s %s %s %s %s\n", k.ID, k.Name, k.Platform, k.Prefix, k.CreatedAt.Format(time.RFC3339), status)
				}
				return nil
			}
		},
	}
}
