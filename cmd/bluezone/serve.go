package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/atomicfile"
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
	maxKeysPerFile                           *int
	exportKeyID, exportKeyVersion            *string
	s3                                       blob.S3Config
	timeZone                                 *zoneFlag
	trustedProxyHeader                       *string // serve only; nil for the operator commands
	instanceID                               *string // serve only
	behindTLSProxy                           *bool   // serve only
	verifyPerMinute, verifyPerHour           *int    // serve only
	verifyFailuresPerMinute                  *int    // serve only
	demoReleaseNow                           *bool   // serve only
	// existing: the command works on the server's database and must not
	// create a new one (the operator commands).
	existing bool

	sms *smsFlags // serve only
	// callback: serve only (serve_callback.go).
	callback *callbackFlags
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
		maxKeysPerFile: fs.Int("max-keys-per-file", server.DefaultMaxKeysPerFile,
			"keys in one export file at most; a batch with more is split into files 1..N, all in index.txt (small files\n"+
				"for phones on weak links, as Google's server; EN allows 750000) [$BLUEZONE_MAX_KEYS_PER_FILE]"),
		exportKeyID: fs.String("export-key-id", "",
			"verification key ID that export files name the original signing key by, as registered with Apple and Google\n"+
				"(MCC-like: Vietnam's is 452); empty: the region in lower case (\"vn\"), what files always said. Keys added by\n"+
				"'bluezone signing-key add' carry their own (docs/keys.md) [$BLUEZONE_EXPORT_KEY_ID]"),
		exportKeyVersion: fs.String("export-key-version", "v1", "verification key version of the original signing key [$BLUEZONE_EXPORT_KEY_VERSION]"),
	}
	fs.StringVar(&sf.s3.Bucket, "s3-bucket", "", "write exports to this S3-compatible bucket instead of --exports-dir [$BLUEZONE_S3_BUCKET]")
	fs.StringVar(&sf.s3.Endpoint, "s3-endpoint", "s3.amazonaws.com", "S3 endpoint host[:port] [$BLUEZONE_S3_ENDPOINT]; credentials from $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY")
	fs.StringVar(&sf.s3.Prefix, "s3-prefix", "", "folder inside the bucket [$BLUEZONE_S3_PREFIX]")
	fs.StringVar(&sf.s3.Region, "s3-region", "", "S3 region [$BLUEZONE_S3_REGION]")
	fs.BoolVar(&sf.s3.Insecure, "s3-insecure", false, "plain HTTP to the S3 endpoint [$BLUEZONE_S3_INSECURE=true]")
	sf.timeZone = addZoneFlag(fs)
	return sf
}

// open opens the database and blob store and builds a server replica.
func (f *serverFlags) open(ctx context.Context, log *slog.Logger) (*server.Server, *store.DB, error) {
	cfg := server.Config{Region: *f.region, ExportPeriod: *f.exportPeriod, MinBatchKeys: *f.minBatchKeys, MaxKeysPerFile: *f.maxKeysPerFile,
		ExportKeyID: *f.exportKeyID, ExportKeyVersion: *f.exportKeyVersion, TimeZone: f.timeZone.loc}
	if f.trustedProxyHeader != nil {
		cfg.TrustedProxyHeader = *f.trustedProxyHeader
	}
	if f.behindTLSProxy != nil {
		cfg.BehindTLSProxy = *f.behindTLSProxy
		cfg.VerifyPerAddressPerMinute, cfg.VerifyPerAddressPerHour = *f.verifyPerMinute, *f.verifyPerHour
		cfg.VerifyFailuresPerMinute = *f.verifyFailuresPerMinute
	}
	if f.demoReleaseNow != nil {
		cfg.DemoReleaseNow = *f.demoReleaseNow
	}
	if f.sms != nil {
		var err error
		if cfg.SMS, err = f.sms.config(); err != nil {
			return nil, nil, err
		}
	}
	if f.callback != nil {
		if err := f.callback.apply(&cfg, *f.dataDir); err != nil {
			return nil, nil, err
		}
	}
	if f.instanceID != nil {
		cfg.InstanceID = *f.instanceID
		if cfg.InstanceID == "" {
			id, err := instanceID(*f.dataDir)
			if err != nil {
				return nil, nil, err
			}
			cfg.InstanceID = id
		}
	}
	url := *f.databaseURL
	if url == "" {
		url = filepath.Join(*f.dataDir, "bluezone.db")
		if f.existing {
			// A new empty database here would get codes no server knows.
			if _, err := os.Stat(url); err != nil {
				abs, _ := filepath.Abs(url)
				return nil, nil, fmt.Errorf("no server database at %s (%w): run this where serve keeps its data, or point it there with --data-dir DIR ($BLUEZONE_DATA_DIR) or --database-url postgres://… ($BLUEZONE_DATABASE_URL)", abs, err)
			}
		} else if err := os.MkdirAll(*f.dataDir, 0o700); err != nil {
			return nil, nil, err
		}
	}
	exportsDir := *f.exportsDir
	if exportsDir == "" {
		exportsDir = filepath.Join(*f.dataDir, "exports")
	}
	open := store.Open
	if f.existing {
		open = store.OpenExisting
	}
	db, err := open(ctx, url)
	if errors.Is(err, store.ErrNoServerDatabase) {
		return nil, nil, fmt.Errorf("%w: point this command at the database serve uses, with --data-dir DIR ($BLUEZONE_DATA_DIR) or --database-url postgres://… ($BLUEZONE_DATABASE_URL)", err)
	}
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

// instanceIDFile keeps the name this server holds the export lease under,
// so that it is the same after a restart (see server.Config.InstanceID).
const instanceIDFile = "instance-id"

// instanceID reads the instance id kept in dataDir, making one on first
// start: the host's name and random hex, so that two servers started from
// copies of one directory still differ (unless the copy includes the file).
func instanceID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, instanceIDFile)
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("instance id: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	host, _ := os.Hostname()
	r := make([]byte, 8)
	rand.Read(r)
	id := strings.Trim(host+"-"+hex.EncodeToString(r), "-")
	if err := atomicfile.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	return id, nil
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
			ff := addFollowFlags(fs) // follow.go
			sf.trustedProxyHeader = fs.String("trusted-proxy-header", "",
				"header in which a trusted reverse proxy gives the client's address, e.g. X-Forwarded-For (its last entry counts);\n"+
					"used for the portal's sign-in limits and the limits of code verification; empty: the peer address (set it only behind a proxy that sets the header,\n"+
					"or clients could pick their own address) [$BLUEZONE_TRUSTED_PROXY_HEADER]")
			tlsCert := fs.String("tls-cert", "", "serve HTTPS with this certificate (PEM, chain after the leaf); needs --tls-key [$BLUEZONE_TLS_CERT]")
			tlsKey := fs.String("tls-key", "", "the private key (PEM) of --tls-cert [$BLUEZONE_TLS_KEY]")
			sf.behindTLSProxy = fs.Bool("behind-tls-proxy", false,
				"a reverse proxy in front terminates TLS: mark portal cookies Secure and send Strict-Transport-Security although\n"+
					"this server speaks plain HTTP (both happen anyway with --tls-cert) [$BLUEZONE_BEHIND_TLS_PROXY=true]")
			sf.verifyPerMinute = fs.Int("verify-per-address-per-minute", 10,
				"code verifications one client address (IPv6: /64) may try in a minute; right codes are given back [$BLUEZONE_VERIFY_PER_ADDRESS_PER_MINUTE]")
			sf.verifyPerHour = fs.Int("verify-per-address-per-hour", 60,
				"the same in an hour; raise both when many phones share one address (a carrier's NAT) [$BLUEZONE_VERIFY_PER_ADDRESS_PER_HOUR]")
			sf.verifyFailuresPerMinute = fs.Int("verify-failures-per-minute", 60,
				"failed code verifications of the whole service in a minute, all replicas together, before every verification\n"+
					"waits (docs/security.md gives the attacker's bound) [$BLUEZONE_VERIFY_FAILURES_PER_MINUTE]")
			sf.instanceID = fs.String("instance-id", "",
				"name of this replica for the export lease, unique among replicas and the same across its restarts, so that after\n"+
					"a crash it resumes its own lease at once; empty: the one kept in DATA_DIR/instance-id (made on first start) [$BLUEZONE_INSTANCE_ID]")
			sf.demoReleaseNow = fs.Bool("demo-release-now", false,
				"for demos and tests only: export published keys at the next run of the export worker (see --export-every),\n"+
					"ignoring EN's 2-hour embargo after a key stops being used, which keeps anyone from linking a case's\n"+
					"current broadcasts to its published key; refused with --database-url or --s3-bucket, which are\n"+
					"production set-ups [$BLUEZONE_DEMO_RELEASE_NOW=true]")
			sf.sms = addSMSFlags(fs)
			sf.callback = addCallbackFlags(fs)
			return func(ctx context.Context, st *stdio, args []string) error {
				if len(args) != 0 {
					return usageErrorf("serve: unexpected arguments %q", args)
				}
				// Production here means what only a real deployment sets up:
				// a shared database or object storage for the exports.
				if *sf.demoReleaseNow && (*sf.databaseURL != "" || sf.s3.Bucket != "") {
					return usageErrorf("serve: --demo-release-now is for demos on the embedded database and local exports; it is refused with --database-url or --s3-bucket (production)")
				}
				if (*tlsCert == "") != (*tlsKey == "") {
					return usageErrorf("serve: --tls-cert and --tls-key go together")
				}
				scheme := "http"
				var cert tls.Certificate
				if *tlsCert != "" {
					var err error
					if cert, err = tls.LoadX509KeyPair(*tlsCert, *tlsKey); err != nil {
						return fmt.Errorf("serve: TLS certificate: %w", err)
					}
					scheme = "https"
				}
				log := slog.New(slog.NewTextHandler(st.err, nil))
				s, db, err := sf.open(ctx, log)
				if err != nil {
					return err
				}
				defer db.Close()
				followDone, err := ff.start(ctx, s, db, *sf.region, log)
				if err != nil {
					return err
				}
				ln, err := net.Listen("tcp", *addr)
				if err != nil {
					return err
				}
				hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}
				if scheme == "https" {
					hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
				}
				base := scheme + "://" + ln.Addr().String()
				log.Info("bluezone server listening", "url", base, "database", db.Backend(), "exports", base+"/exports/index.txt")
				fmt.Fprintf(st.out, "Bluezone server on %s\n  portal:            %s/portal/\n  export public key: %s/exports/public.pem\n", base, base, base)
				if *sf.demoReleaseNow {
					log.Warn("DEMO MODE: --demo-release-now exports keys at the next export run, ignoring EN's 2-hour embargo; never use it for real cases")
					fmt.Fprintf(st.out, "  DEMO MODE (--demo-release-now): keys are exported at the next export run (every %v), without EN's 2-hour embargo\n", *exportEvery)
				}
				tok, err := s.BootstrapToken(ctx)
				if err != nil {
					return err
				}
				if tok != "" {
					fmt.Fprintf(st.out, "  No portal accounts yet. Create the first administrator (one-time link, valid until used or restart):\n    %s/portal/bootstrap?token=%s\n", base, tok)
				}
				workerDone := make(chan struct{})
				go func() { defer close(workerDone); s.RunBackground(ctx, *exportEvery) }()
				serveErr := make(chan error, 1)
				go func() {
					if hs.TLSConfig != nil {
						serveErr <- hs.ServeTLS(ln, "", "") // the certificate is in TLSConfig
					} else {
						serveErr <- hs.Serve(ln)
					}
				}()
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
				<-followDone
				if errors.Is(err, http.ErrServerClosed) {
					err = nil
				}
				return err
			}
		},
	}
}
