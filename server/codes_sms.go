package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/bluezone-vn/bluezone/sms"
)

// SMSConfig is how codes reach people by text message. Phone numbers are
// used to send and never stored: the audit log names them masked.
type SMSConfig struct {
	Sender sms.Sender // nil: no SMS, every code is handed over by the official
	// Templates by language (langVietnamese "vi", langEnglish "en"), with
	// the placeholders {code}, {link} and {expires}; a language left out
	// takes DefaultSMSTemplate's.
	Templates map[string]string
	// LinkBase makes {link}: LinkBase followed by the code, e.g.
	// "https://bluezone.gov.vn/v?c=", which the app opens.
	LinkBase string
	// CountryCode is put before national numbers (a leading 0): "84".
	CountryCode string
}

// DefaultSMSTemplate is the message in lang when no template is set.
func DefaultSMSTemplate(lang string) string {
	if lang == langEnglish {
		return "Bluezone: your verification code is {code}, valid until {expires}. Enter it in the Bluezone app to warn your contacts anonymously. Do not share it."
	}
	return "Bluezone: mã xác nhận của bạn là {code}, hiệu lực đến {expires}. Nhập mã vào ứng dụng Bluezone để cảnh báo ẩn danh những người đã tiếp xúc. Không chia sẻ mã này."
}

func (c SMSConfig) template(lang string) string {
	if t, ok := c.Templates[lang]; ok && t != "" {
		return t
	}
	return DefaultSMSTemplate(lang)
}

func (c SMSConfig) countryCode() string {
	if c.CountryCode == "" {
		return "84"
	}
	return c.CountryCode
}

func (c SMSConfig) validate() []error {
	var errs []error
	if c.LinkBase != "" {
		if u, err := url.Parse(c.LinkBase); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("sms link base %q: want an http(s) URL", c.LinkBase))
		}
	}
	for lang, t := range c.Templates {
		if lang != langEnglish && lang != langVietnamese {
			errs = append(errs, fmt.Errorf("sms template for %q: languages are vi and en", lang))
			continue
		}
		if t == "" {
			continue
		}
		if err := sms.CheckTemplate(t, c.LinkBase != ""); err != nil {
			errs = append(errs, fmt.Errorf("sms template (%s): %w", lang, err))
		}
	}
	for _, r := range c.countryCode() {
		if r < '0' || r > '9' || len(c.countryCode()) > 3 {
			errs = append(errs, fmt.Errorf("sms country code %q: want 1 to 3 digits", c.CountryCode))
			break
		}
	}
	return errs
}

// ErrNoSMS is returned when a code is to be sent but no sender is set up.
var ErrNoSMS = errors.New("SMS is not set up on this server (serve --sms-provider)")

// SMSEnabled tells whether codes can be sent by SMS.
func (s *Server) SMSEnabled() bool { return s.cfg.SMS.Sender != nil }

// smsNumber checks a phone number typed by an official; "" stays "".
func (s *Server) smsNumber(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if !s.SMSEnabled() {
		return "", ErrNoSMS
	}
	return sms.Normalize(raw, s.cfg.SMS.countryCode())
}

// smsLang is the message language asked for; Vietnamese unless English.
func smsLang(v string) string {
	if v == langEnglish {
		return langEnglish
	}
	return langVietnamese
}

// SendCode sends an issued code to phone (E.164) in lang, on behalf of by.
// The audit log and the server's log get the number masked; a gateway's
// error is returned with the number masked too.
func (s *Server) SendCode(ctx context.Context, c *IssuedCode, phone, lang, by string) error {
	if !s.SMSEnabled() {
		return ErrNoSMS
	}
	lang = smsLang(lang)
	at := c.ExpiresAt.In(s.cfg.TimeZone) // {expires} in the officials' zone, as the portal shows it
	expires := at.Format("15:04 ") + utcOffset(at) + at.Format(" 02/01/2006")
	if lang == langEnglish {
		expires = at.Format("15:04 ") + utcOffset(at) + at.Format(", 2 Jan 2006")
	}
	link := ""
	if s.cfg.SMS.LinkBase != "" {
		link = s.cfg.SMS.LinkBase + url.QueryEscape(c.Code)
	}
	body := sms.Render(s.cfg.SMS.template(lang), c.Code, link, expires)
	masked := sms.Mask(phone)
	err := s.cfg.SMS.Sender.Send(ctx, sms.Message{To: phone, Body: body, ID: c.UUID})
	if err != nil {
		err = errors.New(sms.Redact(err.Error(), phone))
		s.stat(ctx, "sms_failed", 1)
		s.log.WarnContext(ctx, "sms", "code", c.ID, "to", masked, "err", err)
		s.audit(ctx, by, "sms_failed", fmt.Sprintf("code #%d to %s: %v", c.ID, masked, err))
		return err
	}
	s.stat(ctx, "sms_sent", 1)
	s.audit(ctx, by, "sms_sent", fmt.Sprintf("code #%d to %s (%s)", c.ID, masked, lang))
	return nil
}

// sendIssuedCode sends a code just issued in the portal and says how it
// went: once sent, the code is not shown (fewer eyes see it); if the SMS
// failed, it is, so that the official can hand it over another way.
func (s *Server) sendIssuedCode(w http.ResponseWriter, r *http.Request, pr *portalRequest, c *IssuedCode, phone, lang string) {
	if err := s.SendCode(r.Context(), c, phone, lang, pr.me.Email); err != nil {
		s.codesPage(w, r, pr, http.StatusBadGateway, fmt.Sprintf(translate(pr.lang, "Code #%d was issued, but the SMS could not be sent: %v. Give the person the code below another way, or revoke it."), c.ID, err), "", c)
		return
	}
	s.codesPage(w, r, pr, http.StatusOK, "", fmt.Sprintf(translate(pr.lang, "Code #%d (UUID %s) was sent by SMS to %s."), c.ID, c.UUID, sms.Mask(phone)))
}
