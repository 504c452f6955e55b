package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/sms"
)

// smsFlags are serve's flags for sending codes by SMS. The gateway's
// secrets come from the environment only, so that neither `ps` nor
// --help (which shows what $BLUEZONE_* set) ever prints them.
type smsFlags struct {
	provider, webhookURL, twilioSID, twilioFrom, twilioBase *string
	templateVI, templateEN, linkBase, countryCode           *string
	timeout                                                 *time.Duration
}

const (
	envWebhookSecret = "BLUEZONE_SMS_WEBHOOK_SECRET"
	envTwilioToken   = "BLUEZONE_SMS_TWILIO_AUTH_TOKEN"
)

func addSMSFlags(fs *flag.FlagSet) *smsFlags {
	return &smsFlags{
		provider: fs.String("sms-provider", "", "send codes by SMS through: webhook (a signed JSON POST to --sms-webhook-url) or twilio;\n"+
			"empty: no SMS, officials hand codes over (docs/codes.md) [$BLUEZONE_SMS_PROVIDER]"),
		webhookURL: fs.String("sms-webhook-url", "", "https URL the webhook posts each message to; the HMAC-SHA256 signing secret (16 bytes or more)\n"+
			"is read from $"+envWebhookSecret+" only [$BLUEZONE_SMS_WEBHOOK_URL]"),
		twilioSID:  fs.String("sms-twilio-account-sid", "", "Twilio account SID (AC…); the auth token is read from $"+envTwilioToken+" only [$BLUEZONE_SMS_TWILIO_ACCOUNT_SID]"),
		twilioFrom: fs.String("sms-twilio-from", "", "Twilio sender: a number in E.164 or a Messaging Service SID (MG…) [$BLUEZONE_SMS_TWILIO_FROM]"),
		twilioBase: fs.String("sms-twilio-base-url", sms.DefaultTwilioBaseURL, "Twilio's API base URL [$BLUEZONE_SMS_TWILIO_BASE_URL]"),
		templateVI: fs.String("sms-template-vi", "", "Vietnamese message, with {code}, {link} and {expires}; empty: the built-in one [$BLUEZONE_SMS_TEMPLATE_VI]"),
		templateEN: fs.String("sms-template-en", "", "English message, likewise [$BLUEZONE_SMS_TEMPLATE_EN]"),
		linkBase: fs.String("sms-link-base", "", "{link} is this URL followed by the code, e.g. https://bluezone.gov.vn/v?c= (what the app opens)\n"+
			"[$BLUEZONE_SMS_LINK_BASE]"),
		countryCode: fs.String("sms-country-code", "84", "country code put before national numbers (0912 345 678) [$BLUEZONE_SMS_COUNTRY_CODE]"),
		timeout:     fs.Duration("sms-timeout", sms.DefaultTimeout, "time-out of one request to the gateway; a send is retried (3 tries in all) only when the gateway\ncannot have taken it [$BLUEZONE_SMS_TIMEOUT]"),
	}
}

// gatewayURL checks a gateway's address: https, or http to this machine
// (a local relay, tests), since messages carry codes and phone numbers.
func gatewayURL(flagName, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--%s %q: want an absolute URL", flagName, raw)
	}
	host := u.Hostname()
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && loopback) {
		return fmt.Errorf("--%s %q: want https (plain http only to this machine)", flagName, raw)
	}
	return nil
}

// config builds the server's SMS configuration, reporting every problem.
func (f *smsFlags) config() (server.SMSConfig, error) {
	c := server.SMSConfig{LinkBase: *f.linkBase, CountryCode: *f.countryCode, Templates: map[string]string{}}
	if *f.templateVI != "" {
		c.Templates["vi"] = *f.templateVI
	}
	if *f.templateEN != "" {
		c.Templates["en"] = *f.templateEN
	}
	var errs []error
	switch *f.provider {
	case "":
		return c, nil
	case "webhook":
		secret := os.Getenv(envWebhookSecret)
		if len(secret) < 16 {
			errs = append(errs, fmt.Errorf("--sms-provider webhook: set $%s to a secret of 16 bytes or more, shared with the receiver", envWebhookSecret))
		}
		if err := gatewayURL("sms-webhook-url", *f.webhookURL); err != nil {
			errs = append(errs, err)
		}
		c.Sender = &sms.Webhook{URL: *f.webhookURL, Secret: []byte(secret), Timeout: *f.timeout}
	case "twilio":
		token := os.Getenv(envTwilioToken)
		if *f.twilioSID == "" || *f.twilioFrom == "" || token == "" {
			errs = append(errs, fmt.Errorf("--sms-provider twilio: want --sms-twilio-account-sid, --sms-twilio-from and $%s", envTwilioToken))
		}
		if err := gatewayURL("sms-twilio-base-url", *f.twilioBase); err != nil {
			errs = append(errs, err)
		}
		c.Sender = &sms.Twilio{BaseURL: *f.twilioBase, AccountSID: *f.twilioSID, AuthToken: token, From: *f.twilioFrom, Timeout: *f.timeout}
	default:
		errs = append(errs, fmt.Errorf("--sms-provider %q: want webhook, twilio or nothing", *f.provider))
	}
	if *f.timeout <= 0 || *f.timeout > time.Minute {
		errs = append(errs, fmt.Errorf("--sms-timeout %v: want more than 0 and at most 1m", *f.timeout))
	}
	if len(errs) > 0 {
		return server.SMSConfig{}, usageErrorf("serve: %v", errors.Join(errs...))
	}
	return c, nil
}
