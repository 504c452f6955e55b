package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"sort"
	"strconv"
	"strings"
)

// The Exposure Notification app API: the device API of Google's
// verification server (/api/verify, /api/certificate, with X-API-Key) and
// the publish API of Google's key server (/v1/publish), with the JSON names,
// response shapes and error codes those servers use, so that an app built
// for them works against Bluezone with configuration changes only (the
// server's address, its API key and its health authority ID).
// docs/api.md describes it and docs/openapi.yaml is its OpenAPI description.
const (
	PathENVerify      = "/api/verify"
	PathENCertificate = "/api/certificate"
	PathENPublish     = "/v1/publish"

	// APIKeyHeader carries the app's API key on verify and certificate
	// requests (bluezone apikey create prints one).
	APIKeyHeader = "X-API-Key"
	// ENChaffHeader marks a fake request when it has any value, as Google's
	// servers read it. ChaffHeader ("1" fake, "0" real) is honoured on every
	// path too: Bluezone's own engine sends it, because a header that only
	// fake requests carry makes them a few bytes larger than real ones.
	ENChaffHeader = "X-Chaff"
)

// Test types of the verification API ("testtype", the certificate's
// "reportType" claim, "accept"): Google's names, and RECURSIVE as
// "recursive", a Bluezone addition for confirmed F1 (F2 warnings).
const (
	TestTypeConfirmed = "confirmed" // CONFIRMED_TEST
	TestTypeLikely    = "likely"    // CONFIRMED_CLINICAL_DIAGNOSIS
	TestTypeNegative  = "negative"  // accepted in "accept", never issued
	TestTypeRecursive = "recursive" // RECURSIVE (Bluezone)
)

// Error codes of the verification API (Google's, plus api_key_invalid and
// too_many_requests) and of the publish API (Google's).
const (
	ErrUnparsableRequest   = "unparsable_request"
	ErrInternalServer      = "internal_server_error"
	ErrCodeInvalid         = "code_invalid"
	ErrUnsupportedTestType = "unsupported_test_type"
	ErrInvalidTestType     = "invalid_test_type"
	ErrTokenInvalid        = "token_invalid"
	ErrTokenExpired        = "token_expired"
	ErrHMACInvalid         = "hmac_invalid"
	ErrAPIKeyInvalid       = "api_key_invalid"
	ErrTooManyRequests     = "too_many_requests"

	ErrBadRequest                  = "bad_request"
	ErrInternal                    = "internal_error"
	ErrUnknownHealthAuthorityID    = "unknown_health_authority_id"
	ErrVerificationCertificate     = "health_authority_verification_certificate_invalid"
	ErrMissingRevisionToken        = "missing_revision_token"
	ErrInvalidRevisionToken        = "invalid_revision_token"
	ErrKeyAlreadyRevised           = "key_already_revised"
	ErrInvalidReportTypeTransition = "invalid_report_type_transition"
	ErrPartialFailure              = "partial_failure"
)

// ENError is the body of a refused verify or certificate request: the
// code under "errorCode" and, as Google's server also writes it for older
// apps, "error_code".
type ENError struct {
	Error           string `json:"error"`
	ErrorCode       string `json:"errorCode"`
	ErrorCodeLegacy string `json:"error_code"`
}

// VerifyCodeRequest exchanges a code for a token. Accept lists the test
// types the app can handle: "confirmed" < "likely" < "negative" each include
// the ones before; empty accepts every type, "recursive" included.
type VerifyCodeRequest struct {
	Code    string   `json:"code"`
	Accept  []string `json:"accept,omitempty"`
	Padding string   `json:"padding,omitempty"`
}

// VerifyCodeResponse carries the token and what the code certifies.
// SymptomDate (YYYY-MM-DD) is the day the keys' days since onset count
// from: the onset or test date of an F0, the exposure date of an F1.
type VerifyCodeResponse struct {
	TestType    string `json:"testtype,omitempty"`
	SymptomDate string `json:"symptomDate,omitempty"`
	TestDate    string `json:"testDate,omitempty"`
	Token       string `json:"token,omitempty"`
	Error       string `json:"error,omitempty"`
	ErrorCode   string `json:"errorCode,omitempty"`
}

// VerificationCertificateRequest binds a token to the HMAC of the keys.
type VerificationCertificateRequest struct {
	Token           string `json:"token"`
	ExposureKeyHMAC string `json:"ekeyhmac"`
	Padding         string `json:"padding,omitempty"`
}

// VerificationCertificateResponse carries the certificate, an ES256 JWT
// with Google's claims: reportType, symptomOnsetInterval, tekmac.
type VerificationCertificateResponse struct {
	Certificate string `json:"certificate,omitempty"`
	Error       string `json:"error,omitempty"`
	ErrorCode   string `json:"errorCode,omitempty"`
}

// ExposureKey is one key of a publish. TransmissionRisk may be omitted.
type ExposureKey struct {
	Key              string `json:"key"`
	IntervalNumber   int32  `json:"rollingStartNumber"`
	IntervalCount    int32  `json:"rollingPeriod"`
	TransmissionRisk int    `json:"transmissionRisk,omitempty"`
}

// Publish uploads keys with a verification certificate.
// HealthAuthorityID names a registered app (its Android package name or iOS
// bundle ID: the name given to bluezone apikey create). SymptomOnsetInterval
// is used only when the certificate has none (Bluezone's always have one).
// Traveler is accepted and ignored: this server exports one region.
// RevisionToken is what an earlier publish of this phone answered.
type Publish struct {
	Keys                 []ExposureKey `json:"temporaryExposureKeys"`
	HealthAuthorityID    string        `json:"healthAuthorityID"`
	VerificationPayload  string        `json:"verificationPayload,omitempty"`
	HMACKey              string        `json:"hmacKey,omitempty"`
	SymptomOnsetInterval int32         `json:"symptomOnsetInterval,omitempty"`
	Traveler             bool          `json:"traveler,omitempty"`
	RevisionToken        string        `json:"revisionToken"`
	Padding              string        `json:"padding,omitempty"`
}

// ENPublishResponse answers a publish, accepted (200, Code empty or
// "partial_failure") or refused (4xx/5xx, Code set). Rejected, Reason and
// ExportAfter are Bluezone additions that other apps may ignore: which keys
// were refused and why, Bluezone's finer error code, and when the last
// inserted key goes into an export (RFC 3339).
type ENPublishResponse struct {
	RevisionToken     string         `json:"revisionToken,omitempty"`
	InsertedExposures int            `json:"insertedExposures,omitempty"`
	Error             string         `json:"error,omitempty"`
	Code              string         `json:"code,omitempty"`
	Warnings          []string       `json:"warnings,omitempty"`
	Rejected          []KeyRejection `json:"rejected,omitempty"`
	Reason            string         `json:"reason,omitempty"`
	ExportAfter       string         `json:"exportAfter,omitempty"`
}

// ExposureKeysHMAC is the HMAC of Google's verification protocol:
// HMAC-SHA256 with the app's secret over the keys sorted by their base64,
// each written "KEY.ROLLING_START.ROLLING_PERIOD.TRANSMISSION_RISK", joined
// by commas. With withoutRisk, each is written without its transmission
// risk ("KEY.ROLLING_START.ROLLING_PERIOD"), the form apps that do not send
// transmission risks use; servers accept it only when every key's
// transmission risk is 0, since it does not cover them.
func ExposureKeysHMAC(secret []byte, keys []ExposureKey, withoutRisk bool) []byte {
	sorted := append([]ExposureKey(nil), keys...)
	sort.SliceStable(sorted, func(a, b int) bool { return sorted[a].Key < sorted[b].Key })
	parts := make([]string, len(sorted))
	for i, k := range sorted {
		s := k.Key + "." + strconv.Itoa(int(k.IntervalNumber)) + "." + strconv.Itoa(int(k.IntervalCount))
		if !withoutRisk {
			s += "." + strconv.Itoa(k.TransmissionRisk)
		}
		parts[i] = s
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strings.Join(parts, ",")))
	return m.Sum(nil)
}
