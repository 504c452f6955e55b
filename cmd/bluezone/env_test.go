package main

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

// serveFlags declares serve's flags and parses the environment and args as
// the command line does.
func serveFlags(t *testing.T, args ...string) (*flag.FlagSet, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	serveCommand().flags(fs)
	_, err := parseFlags(fs, args)
	return fs, err
}

// TestServeFlagsFromEnvironment: every $BLUEZONE_* variable that
// `serve --help` names sets its flag, and a flag on the command line wins.
func TestServeFlagsFromEnvironment(t *testing.T) {
	tests := []struct {
		env, value, flag, want string
	}{
		{"BLUEZONE_ADDR", "127.0.0.1:9999", "addr", "127.0.0.1:9999"},
		{"BLUEZONE_EXPORT_EVERY", "90s", "export-every", "1m30s"},
		{"BLUEZONE_DATA_DIR", "/srv/bz", "data-dir", "/srv/bz"},
		{"BLUEZONE_DATABASE_URL", "postgres://db/bz", "database-url", "postgres://db/bz"},
		{"BLUEZONE_EXPORTS_DIR", "/srv/exports", "exports-dir", "/srv/exports"},
		{"BLUEZONE_REGION", "LA", "region", "LA"},
		{"BLUEZONE_EXPORT_PERIOD", "2h", "export-period", "2h0m0s"},
		{"BLUEZONE_MIN_BATCH_KEYS", "250", "min-batch-keys", "250"},
		{"BLUEZONE_MAX_KEYS_PER_FILE", "20000", "max-keys-per-file", "20000"},
		{"BLUEZONE_EXPORT_KEY_ID", "452", "export-key-id", "452"},
		{"BLUEZONE_EXPORT_KEY_VERSION", "v2", "export-key-version", "v2"},
		{"BLUEZONE_S3_BUCKET", "exports", "s3-bucket", "exports"},
		{"BLUEZONE_S3_ENDPOINT", "minio:9000", "s3-endpoint", "minio:9000"},
		{"BLUEZONE_S3_PREFIX", "vn/", "s3-prefix", "vn/"},
		{"BLUEZONE_S3_REGION", "ap-southeast-1", "s3-region", "ap-southeast-1"},
		{"BLUEZONE_S3_INSECURE", "true", "s3-insecure", "true"},
		{"BLUEZONE_TRUSTED_PROXY_HEADER", "X-Forwarded-For", "trusted-proxy-header", "X-Forwarded-For"},
		{"BLUEZONE_TLS_CERT", "/etc/bz/cert.pem", "tls-cert", "/etc/bz/cert.pem"},
		{"BLUEZONE_TLS_KEY", "/etc/bz/key.pem", "tls-key", "/etc/bz/key.pem"},
		{"BLUEZONE_BEHIND_TLS_PROXY", "true", "behind-tls-proxy", "true"},
		{"BLUEZONE_VERIFY_PER_ADDRESS_PER_MINUTE", "20", "verify-per-address-per-minute", "20"},
		{"BLUEZONE_VERIFY_PER_ADDRESS_PER_HOUR", "120", "verify-per-address-per-hour", "120"},
		{"BLUEZONE_VERIFY_FAILURES_PER_MINUTE", "90", "verify-failures-per-minute", "90"},
		{"BLUEZONE_INSTANCE_ID", "replica-a", "instance-id", "replica-a"},
		{"BLUEZONE_DEMO_RELEASE_NOW", "true", "demo-release-now", "true"},
		{"BLUEZONE_SMS_PROVIDER", "twilio", "sms-provider", "twilio"},
		{"BLUEZONE_SMS_WEBHOOK_URL", "https://sms.moh.gov.vn/send", "sms-webhook-url", "https://sms.moh.gov.vn/send"},
		{"BLUEZONE_SMS_TWILIO_ACCOUNT_SID", "AC42", "sms-twilio-account-sid", "AC42"},
		{"BLUEZONE_SMS_TWILIO_FROM", "+15005550006", "sms-twilio-from", "+15005550006"},
		{"BLUEZONE_SMS_TWILIO_BASE_URL", "https://twilio.example", "sms-twilio-base-url", "https://twilio.example"},
		{"BLUEZONE_SMS_TEMPLATE_VI", "Mã {code}", "sms-template-vi", "Mã {code}"},
		{"BLUEZONE_SMS_TEMPLATE_EN", "Code {code}", "sms-template-en", "Code {code}"},
		{"BLUEZONE_SMS_LINK_BASE", "https://bluezone.gov.vn/v?c=", "sms-link-base", "https://bluezone.gov.vn/v?c="},
		{"BLUEZONE_SMS_COUNTRY_CODE", "856", "sms-country-code", "856"},
		{"BLUEZONE_SMS_TIMEOUT", "5s", "sms-timeout", "5s"},
		{"BLUEZONE_TIME_ZONE", "Europe/Paris", "time-zone", "Europe/Paris"},
		{"BLUEZONE_FOLLOW", "AA,https://aa.example/exports/index.txt,aa.pem; BB,https://bb.example/index.txt,bb.pem", "follow",
			"AA,https://aa.example/exports/index.txt,aa.pem;BB,https://bb.example/index.txt,bb.pem"},
		{"BLUEZONE_FOLLOW_EVERY", "5m", "follow-every", "5m0s"},
		{"BLUEZONE_CALLBACK_KEY_FILE", "/run/secrets/callback.key", "callback-key-file", "/run/secrets/callback.key"},
		{"BLUEZONE_CALLBACK_PER_ADDRESS_PER_HOUR", "20", "callback-per-address-per-hour", "20"},
		{"BLUEZONE_CALLBACK_PER_MINUTE", "600", "callback-per-minute", "600"},
	}
	named := map[string]bool{}
	for _, tt := range tests {
		named[tt.env] = true
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			fs, err := serveFlags(t)
			if err != nil {
				t.Fatal(err)
			}
			if got := fs.Lookup(tt.flag).Value.String(); got != tt.want {
				t.Errorf("$%s=%s: --%s = %q, want %q", tt.env, tt.value, tt.flag, got, tt.want)
			}
		})
	}
	// The table covers every variable the help names.
	fs, _ := serveFlags(t)
	fs.VisitAll(func(f *flag.Flag) {
		if m := envName.FindStringSubmatch(f.Usage); m != nil && !named[m[1]] {
			t.Errorf("$%s (--%s) is not tested", m[1], f.Name)
		}
	})

	t.Run("command line wins", func(t *testing.T) {
		t.Setenv("BLUEZONE_EXPORT_PERIOD", "2h")
		fs, err := serveFlags(t, "--export-period", "30m")
		if err != nil || fs.Lookup("export-period").Value.String() != "30m0s" {
			t.Errorf("--export-period 30m with $BLUEZONE_EXPORT_PERIOD=2h: %v, %v; want 30m0s", fs.Lookup("export-period").Value, err)
		}
	})
	t.Run("help shows the environment's value", func(t *testing.T) {
		t.Setenv("BLUEZONE_REGION", "LA")
		out, _, code := run(t, "", "serve", "--help")
		if code != 0 || !strings.Contains(out, `(default "LA")`) || !strings.Contains(out, "[$BLUEZONE_REGION]") {
			t.Errorf("serve --help with $BLUEZONE_REGION=LA: exit %d\n%s", code, out)
		}
	})
}

// TestMalformedEnvironmentIsAnError: a malformed $BLUEZONE_* value stops
// the command with a usage error that names the variable, rather than
// running with the default; --help still works.
func TestMalformedEnvironmentIsAnError(t *testing.T) {
	issue := []string{"codes", "issue", "--date", time.Now().UTC().Format(time.DateOnly)}
	for _, tt := range []struct {
		env, value string
		commands   [][]string
	}{
		{"BLUEZONE_EXPORT_PERIOD", "bogus", [][]string{{"serve"}, issue}},
		{"BLUEZONE_EXPORT_EVERY", "60", [][]string{{"serve"}}}, // a duration needs its unit
		{"BLUEZONE_MIN_BATCH_KEYS", "1k", [][]string{{"serve"}, issue}},
		{"BLUEZONE_S3_INSECURE", "yes please", [][]string{{"serve"}, issue}},
	} {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			t.Setenv("BLUEZONE_DATA_DIR", t.TempDir())
			// Should serve get past its flags, it stops at once (exit 1), not listen.
			t.Setenv("BLUEZONE_ADDR", "not an address")
			for _, args := range tt.commands {
				_, stderr, code := run(t, "", args...)
				if code != 2 || !strings.Contains(stderr, "$"+tt.env+"=") {
					t.Errorf("%q with $%s=%q: exit %d, stderr %q; want 2 and the variable named", args, tt.env, tt.value, code, stderr)
				}
			}
			if out, _, code := run(t, "", "serve", "--help"); code != 0 || !strings.Contains(out, "Usage:") {
				t.Errorf("serve --help with $%s=%q: exit %d", tt.env, tt.value, code)
			}
		})
	}
}

// TestDataDirFromEnvironment: an operator command run with only
// $BLUEZONE_DATA_DIR set finds the server's database there.
func TestDataDirFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(context.Background(), filepath.Join(dir, "bluezone.db")) // what serve made
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv("BLUEZONE_DATA_DIR", dir)
	t.Chdir(t.TempDir()) // not ./data
	out, stderr, code := run(t, "", "codes", "issue", "--date", time.Now().UTC().Format(time.DateOnly))
	if code != 0 || len(strings.Fields(out)) != 3 {
		t.Fatalf("codes issue: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if _, err := os.Stat("data"); err == nil {
		t.Error("./data was created although $BLUEZONE_DATA_DIR was set")
	}
}
