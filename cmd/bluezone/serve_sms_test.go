package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/sms"
)

// TestServeSMSFlags: each provider needs its settings and its secret from
// the environment; gateways are reached over https (http only on this
// machine); every problem is a usage error.
func TestServeSMSFlags(t *testing.T) {
	const secret = "a webhook secret of some length"
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string // "" for a sender built; else part of the error
		kind string
	}{
		{"none", nil, nil, "", ""},
		{"webhook", map[string]string{envWebhookSecret: secret}, []string{"--sms-provider", "webhook", "--sms-webhook-url", "https://sms.moh.gov.vn/send"}, "", "webhook"},
		{"webhook on loopback", map[string]string{envWebhookSecret: secret}, []string{"--sms-provider", "webhook", "--sms-webhook-url", "http://127.0.0.1:9000/send"}, "", "webhook"},
		{"webhook over plain http", map[string]string{envWebhookSecret: secret}, []string{"--sms-provider", "webhook", "--sms-webhook-url", "http://sms.moh.gov.vn/send"}, "want https", ""},
		{"webhook without secret", nil, []string{"--sms-provider", "webhook", "--sms-webhook-url", "https://sms.moh.gov.vn/send"}, "BLUEZONE_SMS_WEBHOOK_SECRET", ""},
		{"webhook secret one byte short", map[string]string{envWebhookSecret: "123456789012345"}, []string{"--sms-provider", "webhook", "--sms-webhook-url", "https://sms.moh.gov.vn/send"}, "16 bytes", ""},
		{"twilio", map[string]string{envTwilioToken: "tok"}, []string{"--sms-provider", "twilio", "--sms-twilio-account-sid", "AC1", "--sms-twilio-from", "+15005550006"}, "", "twilio"},
		{"twilio without token", nil, []string{"--sms-provider", "twilio", "--sms-twilio-account-sid", "AC1", "--sms-twilio-from", "+1500"}, "BLUEZONE_SMS_TWILIO_AUTH_TOKEN", ""},
		{"unknown provider", nil, []string{"--sms-provider", "pigeon"}, "want webhook, twilio", ""},
		{"timeout too long", map[string]string{envTwilioToken: "tok"}, []string{"--sms-provider", "twilio", "--sms-twilio-account-sid", "AC1", "--sms-twilio-from", "+1500", "--sms-timeout", "2m"}, "--sms-timeout", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(envWebhookSecret, "")
			t.Setenv(envTwilioToken, "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f := addSMSFlags(fs)
			if _, err := parseFlags(fs, tt.args); err != nil {
				t.Fatal(err)
			}
			c, err := f.config()
			if tt.want != "" {
				if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("%v, want a usage error about %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch s := c.Sender.(type) {
			case nil:
				if tt.kind != "" {
					t.Fatal("no sender")
				}
			case *sms.Webhook:
				if tt.kind != "webhook" || string(s.Secret) != secret {
					t.Fatalf("webhook %+v", s)
				}
			case *sms.Twilio:
				if tt.kind != "twilio" || s.AuthToken != "tok" || s.BaseURL != sms.DefaultTwilioBaseURL {
					t.Fatalf("twilio %+v", s)
				}
			}
		})
	}
}

// TestServeHelpHidesSMSSecrets: the secrets are not flags, so --help,
// which shows what $BLUEZONE_* variables set, cannot print them.
func TestServeHelpHidesSMSSecrets(t *testing.T) {
	t.Setenv(envWebhookSecret, "do-not-print-this-secret")
	t.Setenv(envTwilioToken, "do-not-print-this-token")
	out, _, code := run(t, "", "serve", "--help")
	if code != 0 || strings.Contains(out, "do-not-print") || !strings.Contains(out, "$"+envWebhookSecret) {
		t.Fatalf("serve --help: exit %d\n%s", code, out)
	}
}

// TestServeRefusesIncompleteSMS: serve stops before listening when the SMS
// set-up is incomplete, naming what is missing.
func TestServeRefusesIncompleteSMS(t *testing.T) {
	t.Setenv(envWebhookSecret, "")
	_, stderr, code := run(t, "", "serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--sms-provider", "webhook", "--sms-webhook-url", "https://sms.moh.gov.vn/send")
	if code != 2 || !strings.Contains(stderr, "set $"+envWebhookSecret) {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	t.Setenv("BLUEZONE_SMS_PROVIDER", "twilio")
	if _, stderr, code := run(t, "", "serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0"); code != 2 || !strings.Contains(stderr, "--sms-twilio-account-sid") {
		t.Fatalf("from the environment: exit %d: %s", code, stderr)
	}
}
