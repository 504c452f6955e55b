package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

func signingKeyCommand() *command {
	return &command{
		name:    "signing-key",
		summary: "list, add and retire the export signing keys (rotation; same database as serve, see docs/keys.md)",
		subs:    []*command{signingKeyListCommand(), signingKeyAddCommand(), signingKeyRetireCommand()},
	}
}

func quietServer(ctx context.Context, sf *serverFlags) (*server.Server, io.Closer, error) {
	s, db, err := sf.open(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, nil, err
	}
	return s, db, nil
}

func signingKeyListCommand() *command {
	return &command{
		name: "list",
		summary: describe(
			"Prints one line per signing key, oldest first: 'ID VERSION STATUS ADDED RETIRE_AT' (RFC 3339, '-' for none).",
			"STATUS is current (public.pem; signs the risk configuration), next (signs files with the current one",
			"during its overlap) or retired (signs nothing)."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			sf := addServerFlags(fs)
			sf.existing = true
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 0 {
					return usageErrorf("signing-key list: unexpected arguments %q", args)
				}
				s, db, err := quietServer(ctx, sf)
				if err != nil {
					return err
				}
				defer db.Close()
				keys, err := s.SigningKeys(ctx)
				if err != nil {
					return err
				}
				now, current := time.Now(), false
				for _, k := range keys {
					status := "retired"
					if k.Live(now) {
						status = "next"
						if !current {
							status, current = "current", true
						}
					}
					retire := "-"
					if !k.RetireAt.IsZero() {
						retire = k.RetireAt.Format(time.RFC3339)
					}
					added := "-" // the original key predates the ring
					if k.Added.Unix() > 0 {
						added = k.Added.Format(time.RFC3339)
					}
					fmt.Fprintf(st.out, "%s %s %s %s %s\n", k.Info.KeyID, k.Info.KeyVersion, status, added, retire)
				}
				return nil
			}
		},
	}
}

func signingKeyAddCommand() *command {
	return &command{
		name: "add",
		args: "--id ID --version VERSION",
		summary: describe(
			"Adds an export signing key and prints its public key (PEM) for registration with Apple and Google.",
			"From the next export run every file carries its signature and those of the keys live now, which",
			"endorse it (phones that pin them learn it) and retire after --overlap. Audited."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			sf := addServerFlags(fs)
			sf.existing = true
			id := fs.String("id", "", "verification key ID of the new key, e.g. 452 (required)")
			version := fs.String("version", "", "verification key version of the new key, e.g. v2 (required)")
			keyFile := fs.String("key", "", "the new private key (PEM, e.g. from 'bluezone export keygen'); empty: a new one is made")
			overlap := fs.Duration("overlap", 0, "how long the keys live now keep signing; at least the retention of files and one\nexport period (the default), so that every file listed at their retirement carries the new signature")
			by := fs.String("by", "operator", "who adds the key, for the audit log")
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 0 || *id == "" || *version == "" {
					return usageErrorf("signing-key add: want --id ID --version VERSION")
				}
				req := server.AddSigningKeyRequest{KeyID: *id, KeyVersion: *version, Overlap: *overlap, By: *by}
				if *keyFile != "" {
					b, err := os.ReadFile(*keyFile)
					if err != nil {
						return err
					}
					if req.Key, err = export.ParsePrivateKeyPEM(b); err != nil {
						return fmt.Errorf("signing-key add: %s: %w", *keyFile, err)
					}
				}
				s, db, err := quietServer(ctx, sf)
				if err != nil {
					return err
				}
				defer db.Close()
				k, err := s.AddSigningKey(ctx, req)
				if err != nil {
					return fmt.Errorf("signing-key add: %w", err)
				}
				fmt.Fprintf(st.err, "added %s/%s; the keys live before it retire after the overlap (see 'bluezone signing-key list')\n", k.Info.KeyID, k.Info.KeyVersion)
				_, err = st.out.Write(k.PublicPEM)
				return err
			}
		},
	}
}

func signingKeyRetireCommand() *command {
	return &command{
		name: "retire",
		args: "ID VERSION",
		summary: describe(
			"Stops a live signing key from signing at once, ending its overlap early (after a compromise, say).",
			"The last live key cannot be retired. Audited."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			sf := addServerFlags(fs)
			sf.existing = true
			by := fs.String("by", "operator", "who retires the key, for the audit log")
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) == 1 && strings.Contains(args[0], "/") {
					args = strings.SplitN(args[0], "/", 2)
				}
				if len(args) != 2 {
					return usageErrorf("signing-key retire: want ID VERSION")
				}
				s, db, err := quietServer(ctx, sf)
				if err != nil {
					return err
				}
				defer db.Close()
				if err := s.RetireSigningKey(ctx, args[0], args[1], *by); err != nil {
					return fmt.Errorf("signing-key retire: %w", err)
				}
				_, err = fmt.Fprintf(st.out, "retired %s/%s\n", args[0], args[1])
				return err
			}
		},
	}
}
