// Package api is the wire format between phones and the server: JSON bodies
// of the verification and publish endpoints, and how the key HMAC is made.
// Both sides import it; neither imports the other. docs/api.md describes it
// for implementers in other languages.
package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"sort"
	"strconv"
	"strings"
)

// Paths of the endpoints, relative to the server's base URL.
const (
	PathVerify      = "/api/v1/verify"
	PathCertificate = "/api/v1/certificate"
	PathPublish     = "/api/v1/publish"
	// PathExports is where export files, IndexName and PublicKeyName are served.
	PathExports = "/exports/"
	// IndexName lists the live export files, oldest first, one per line,
	// relative to PathExports.
	IndexName = "index.txt"
	// PublicKeyName is the export signing key (PEM), for apps to pin.
	PublicKeyName = "public.pem"
	// RiskConfigName is the authority's risk configuration (JSON, see
	// package risk), and RiskConfigSigName its ECDSA P-256/SHA-256 signature
	// (ASN.1) made with the export signing key.
	RiskConfigName    = "risk-config.json"
	RiskConfigSigName = "risk-config.sig"
	// ChaffHeader marks a fake request (ChaffFake): phones send them on a
	// schedule so that a real upload cannot be told apart on the wire. Real
	// requests carry it too, as ChaffReal, a value of the same length, so
	// that both are the same size; any value but ChaffFake is real.
	ChaffHeader = "X-Bluezone-Chaff"
	ChaffFake   = "1"
	ChaffReal   = "0"
)

// Error is the body of every non-200 answer.
type Error struct {
	Code     string         `json:"error_code"`
	Message  string         `json:"error"`
	Rejected []KeyRejection `json:"rejected,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// VerifyRequest exchanges a code from the health authority.
type VerifyRequest struct {
	Code    string `json:"code"`
	Padding string `json:"padding,omitempty"`
}

// VerifyResponse carries the token for the certificate request.
type VerifyResponse struct {
	Token      string `json:"token"`
	ReportType string `json:"report_type"`
	TestDate   string `json:"test_date"` // YYYY-MM-DD: onset/test date (F0) or exposure date (F1)
}

// CertificateRequest binds a token to the HMAC of the keys to publish.
type CertificateRequest struct {
	Token   string `json:"token"`
	KeyHMAC string `json:"ekeyhmac"` // base64 of KeysHMAC
	Padding string `json:"padding,omitempty"`
}

// CertificateResponse carries the publish certificate.
type CertificateResponse struct {
	Certificate string `json:"certificate"`
}

// Key is one temporary exposure key as apps send it.
type Key struct {
	Key              string `json:"key"` // base64, 16 bytes
	RollingStart     int64  `json:"rollingStartNumber"`
	RollingPeriod    int64  `json:"rollingPeriod"`
	TransmissionRisk int64  `json:"transmissionRisk"`
}

// PublishRequest uploads keys with a certificate.
type PublishRequest struct {
	Keys        []Key  `json:"temporaryExposureKeys"`
	Certificate string `json:"certificate"`
	HMACKey     string `json:"hmackey"` // base64 secret the app used for KeyHMAC
	Padding     string `json:"padding,omitempty"`
}

// KeyRejection says why one key of an upload was refused.
type KeyRejection struct {
	Index   int    `json:"index"`
	Code    string `json:"error_code"`
	Message string `json:"error"`
}

// PublishResponse reports partial acceptance explicitly.
type PublishResponse struct {
	Inserted int            `json:"inserted"`
	Rejected []KeyRejection `json:"rejected,omitempty"`
	// ExportAfter is when the last inserted key goes into an export batch
	// (RFC 3339, UTC): EN's 2-hour embargo after the key stops being used,
	// rounded up to the end of its batch. Empty when no key was inserted,
	// and from servers older than this field.
	ExportAfter string `json:"export_after,omitempty"`
}

// Request bodies are padded to these sizes (with the padding member), so
// that their length tells nothing: a chaff request looks like a real one.
const (
	VerifyRequestSize      = 256
	CertificateRequestSize = 1024
	PublishRequestSize     = 8192
)

// Pad grows the JSON object b to size bytes with a "padding" member of
// filler characters; b is returned as it is when it is not an object or
// already as large. Requests and responses are padded so that their length
// tells nothing.
func Pad(b []byte, size int) []byte {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return b
	}
	sep := ","
	if strings.TrimSpace(string(b[1:len(b)-1])) == "" {
		sep = ""
	}
	n := size - len(b) - len(sep) - len(`"padding":""`)
	if n <= 0 {
		return b
	}
	out := append(b[:len(b)-1:len(b)-1], sep+`"padding":"`...)
	out = append(out, strings.Repeat("=", n)...)
	return append(out, `"}`...)
}

// KeysHMAC is HMAC-SHA256 with the app's secret over the keys sorted by
// their text, each written "KEY.ROLLING_START.ROLLING_PERIOD.TRANSMISSION_RISK"
// (KEY in base64), joined by commas.
func KeysHMAC(secret []byte, keys []Key) []byte {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.Key + "." + strconv.FormatInt(k.RollingStart, 10) + "." + strconv.FormatInt(k.RollingPeriod, 10) + "." + strconv.FormatInt(k.TransmissionRisk, 10)
	}
	sort.Strings(parts)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strings.Join(parts, ",")))
	return m.Sum(nil)
}
