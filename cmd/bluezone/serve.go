package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// serverFlags are shared by serve and the operator commands that open the
// same database. Each flag can also be set by the environment variable its
// usage names (see setFromEnv).
type serverFlags struct {
	dataDir, databaseURL, exportsDir, region *string
	exportPeriod                             *time.Duration
	minBatchKeys                             *int
	s3                                       blob.S3Config
	trustedProxyHeader                       *string // serve only; nil for the operator commands
}

// envName finds the $BLUEZONE_* variable a flag's usage names.
var envName = regexp.MustCompile(`\[\$(BLUEZONE_[A-Z0-9_]+)`)

// setFromEnv gives every flag whose usage names a $BLUEZONE_* variable that
// variable's value, when it is set, parsed as the flag parses its value: a
// malformed value (BLUEZONE_EXPORT_PERIOD=bogus) is an error, not silently
// the default. The value also becomes the default --help shows. Flags given
// on the command line are parsed afterwards and win.
func setFromEnv(fs *flag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		m := envName.FindStringSubmatch(f.Usage)
		if m == nil {
			return
		}
		v, ok := os.LookupEnv(m[1])
		if !ok {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("$%s=%q: invalid value for --%s: %v", m[1], v, f.Name, err))
			return
		}
		f.DefValue = f.Value.String()
	})
	return errors.Join(errs...)
}

func addServerFlags(fs *flag.FlagSet) *serverFlags {
	sf := &serverFlags{
		dataDir:      fs.String("data-dir", "data", "directory of the embedded database and export files [$BLUEZONE_DATA_DIR]"),
		databaseURL:  fs.String("database-url", "", "postgres://… for PostgreSQL; empty for SQLite in the data directory [$BLUEZONE_DATABASE_URL]"),
		exportsDir:   fs.String("exports-dir", "", "where export files are written (default DATA_DIR/exports) [$BLUEZONE_EXPORTS_DIR]"),
		region:       fs.String("region", "VN", "two-letter region written into exports [$BLUEZONE_REGION]"),
		exportPeriod: fs.Duration("export-period", time.Hour, "length of one export batch; divides 24h [$BLUEZONE_EXPORT_PERIOD]"),
		minBatchKeys: fs.Int("min-batch-keys", 1000, "exports are padded with random keys up to this many [$BLUEZONE_MIN_BATCH_KEYS]"),
	}
	fs.StringVar(&sf.s3.Bucket, "s3-bucket", "", "write exports to this S3-compatible bucket instead of --exports-dir [$BLUEZONE_S3_BUCKET]")
	fs.StringVar(&sf.s3.Endpoint, "s3-endpoint", "s3.amazonaws.com", "S3 endpoint host[:port] [$BLUEZONE_S3_ENDPOINT]; credentials from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY")
	fs.StringVar(&sf.s3.Prefix, "s3-prefix", "", "folder inside the bucket [$BLUEZONE_S3_PREFIX]")
	fs.StringVar(&sf.s3.Region, "s3-region", "", "S3 region [$BLUEZONE_S3_REGION]")
	fs.BoolVar(&sf.s3.Insecure, "s3-insecure", false, "plain HTTP to the S3 endpoint [$BLUEZONE_S3_INSECURE=true]")
	return sf
}

// open opens the database and blob store and builds a server replica.
func (f *serverFlags) open(ctx context.Context, log *slog.Logger) (*server.Server, *store.DB, error) {
	cfg := server.Config{Region: *f.region, ExportPeriod: *f.exportPeriod, MinBatchKeys: *f.minBatchKeys}
	if f.trustedProxyHeader != nil {
		cfg.TrustedProxyHeader = *f.trustedProxyHeader
	}
	url := *f.databaseURL
	if url == "" {
		if err := os.MkdirAll(*f.dataDir, 0o700); err != nil {
			return nil, nil, err
		}
		url = filepath.Join(*f.dataDir, "bluezone.db")
	}
	exportsDir := *f.exportsDir
	if exportsDir == "" {
		exportsDir = filepath.Join(*f.dataDir, "exports")
	}
	db, err := store.Open(ctx, url)
	if err != nil {
		return nil, nil, err
	}
	var blobs server.Blobs
	if f.s3.Bucket != "" {
		blobs, err = blob.NewS3(ctx, f.s3)
	} else {
		blobs, err = blob.NewDir(exportsDir)
	}
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	s, err := server.New(ctx, cfg, db, blobs, log)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return s, db, nil
}

func serveCommand() *command {
	return &command{
		name: "serve",
		summary: describe(
			"Runs the health authority's server.",
			"It serves the app API (verify, certificate, publish), the portal under /portal/,",
			"signed exports under /exports/ (index.txt, public.pem, batches), /healthz and /metrics.",
			"With no flags it keeps everything in ./data (SQLite and export files): zero set-up.",
			"With --database-url postgres://… any number of replicas can share one database;",
			"exactly one of them writes each export batch."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			addr := fs.String("addr", "127.0.0.1:8080", "address to listen on [$BLUEZONE_ADDR]")
			exportEvery := fs.Duration("export-every", time.Minute, "how often the export worker looks for finished batches [$BLUEZONE_EXPORT_EVERY]")
			sf := addServerFlags(fs)
			sf.trustedProxyHeader = fs.String("trusted-proxy-header", "",
				"header in which a trusted reverse proxy gives the client's address, e.g. X-Forwarded-For (its last entry counts);\n"+
					"used only for the portal's sign-in limits; empty: the peer address (set it only behind a proxy that sets the header,\n"+
					"or clients could pick their own address) [$BLUEZONE_TRUSTED_PROXY_HEADER]")
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 0 {
					return usageErrorf("serve: unexpected arguments %q", args)
				}
				log := slog.New(slog.NewTextHandler(st.err, nil))
				s, db, err := sf.open(ctx, log)
				if err != nil {
					return err
				}
				defer db.Close()
				ln, err := net.Listen("tcp", *addr)
				if err != nil {
					return err
				}
				hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}
				log.Info("bluezone server listening", "url", "http://"+ln.Addr().String(), "database", db.Backend(),
					"exports", "http://"+ln.Addr().String()+"/exports/index.txt")
				fmt.Fprintf(st.out, "Bluezone server on http://%s\n  portal:            http://%s/portal/\n  export public key: http://%s/exports/public.pem\n",
					ln.Addr(), ln.Addr(), ln.Addr())
				tok, err := s.BootstrapToken(ctx)
				if err != nil {
					return err
				}
				if tok != "" {
					fmt.Fprintf(st.out, "  No portal accounts yet. Create the first administrator (one-time link, valid until used or restart):\n    http://%s/portal/bootstrap?token=%s\n", ln.Addr(), tok)
				}
				workerDone := make(chan struct{})
				go func() { defer close(workerDone); s.RunBackground(ctx, *exportEvery) }()
				serveErr := make(chan error, 1)
				go func() { serveErr <- hs.Serve(ln) }()
				select {
				case err := <-serveErr:
					return err
				case <-ctx.Done():
				}
				log.Info("shutting down")
				shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
				defer cancel()
				err = hs.Shutdown(shutCtx)
				<-workerDone
				if errors.Is(err, http.ErrServerClosed) {
					err = nil
				}
				return err
			}
		},
	}
}
