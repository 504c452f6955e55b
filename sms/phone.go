package sms

import (
	"errors"
	"fmt"
	"strings"
)

// ErrPhone is wrapped by Normalize's errors.
var ErrPhone = errors.New("not a phone number")

// Normalize turns a phone number as people write it into E.164: spaces,
// dots, dashes and parentheses go; "00" becomes "+"; a national number
// (leading 0, as 0912 345 678 in Vietnam) gets countryCode ("84").
// E.164 numbers have at most 15 digits; fewer than 8 is no mobile number.
func Normalize(raw, countryCode string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(raw) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("%w: it may hold only digits, spaces, dots, dashes, parentheses and a leading +", ErrPhone)
		}
	}
	n := b.String()
	switch {
	case strings.HasPrefix(n, "+"):
	case strings.HasPrefix(n, "00"):
		n = "+" + n[2:]
	case strings.HasPrefix(n, "0"):
		n = "+" + countryCode + n[1:]
	default:
		return "", fmt.Errorf("%w: start it with +country code, 00 or a national 0", ErrPhone)
	}
	digits := len(n) - 1
	if digits < 8 || digits > 15 || n[1] == '0' {
		return "", fmt.Errorf("%w: want 8 to 15 digits with the country code, got %d", ErrPhone, digits)
	}
	return n, nil
}

// Mask hides all of an E.164 number but its country code's first digits
// and its last three, for logs and the audit log: +84912345678 → +84••••••678.
func Mask(e164 string) string {
	if len(e164) < 7 {
		return "•••"
	}
	return e164[:3] + strings.Repeat("•", len(e164)-6) + e164[len(e164)-3:]
}

// Redact replaces the number, in its E.164 and national forms, in a text
// that came back from a gateway, so that an error can be logged.
func Redact(text, e164 string) string {
	if len(e164) < 7 {
		return text
	}
	m := Mask(e164)
	text = strings.ReplaceAll(text, e164, m)
	text = strings.ReplaceAll(text, e164[1:], m[1:])
	// The national form (0912345678) and the subscriber number alone
	// (912345678) do not contain the country code, whose length Redact does
	// not know: the digits after the first three (country codes have 1 to
	// 3) are in every form, so those go too, but for the last three.
	rest := e164[4:]
	return strings.ReplaceAll(text, rest, strings.Repeat("•", len(rest)-3)+rest[len(rest)-3:])
}
