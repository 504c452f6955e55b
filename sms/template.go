package sms

import (
	"fmt"
	"regexp"
	"strings"
)

// Placeholders a template may hold.
const (
	PlaceholderCode    = "{code}"
	PlaceholderLink    = "{link}"
	PlaceholderExpires = "{expires}"
)

// MaxTemplateBytes bounds a template: 3 Unicode SMS segments (Vietnamese
// diacritics need UCS-2, 67 characters a segment) are about 600 bytes.
const MaxTemplateBytes = 600

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// CheckTemplate reports what is wrong with a message template: it must say
// {code} or {link}, only name known placeholders (a typo would go out as
// is), and use {link} only when links are configured.
func CheckTemplate(t string, haveLink bool) error {
	if len(t) > MaxTemplateBytes {
		return fmt.Errorf("the template has %d bytes, want at most %d", len(t), MaxTemplateBytes)
	}
	for _, p := range placeholder.FindAllString(t, -1) {
		switch p {
		case PlaceholderCode, PlaceholderExpires:
		case PlaceholderLink:
			if !haveLink {
				return fmt.Errorf("the template uses {link}, but no link base is set")
			}
		default:
			return fmt.Errorf("the template has the unknown placeholder %s (known: {code}, {link}, {expires})", p)
		}
	}
	if !strings.Contains(t, PlaceholderCode) && !strings.Contains(t, PlaceholderLink) {
		return fmt.Errorf("the template must contain {code} or {link}")
	}
	return nil
}

// Render fills a template in.
func Render(t, code, link, expires string) string {
	return strings.NewReplacer(PlaceholderCode, code, PlaceholderLink, link, PlaceholderExpires, expires).Replace(t)
}
