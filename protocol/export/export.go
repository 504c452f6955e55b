// Package export reads, writes, signs and verifies Exposure Notification
// key-export files: a zip holding export.bin ("EK Export v1" header followed by
// a TemporaryExposureKeyExport protobuf) and export.sig (a TEKSignatureList of
// ECDSA P-256 / SHA-256 signatures over export.bin).
//
// Files written here are readable by any EN client, and files from other EN
// servers are readable here.
package export

import (
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// Header starts every export.bin: "EK Export v1" right-padded with spaces to 16 bytes.
	Header = "EK Export v1    "
	// BinName and SigName are the names of the two files inside an export zip.
	BinName = "export.bin"
	SigName = "export.sig"
	// AlgorithmECDSAP256SHA256 is the OID of the only signature algorithm EN accepts.
	AlgorithmECDSAP256SHA256 = "1.2.840.10045.4.3.2"
	// KeyLength is the length of a temporary exposure key.
	KeyLength = 16
	// MaxRollingPeriod is the most intervals a key may cover (one day).
	MaxRollingPeriod = 144
	// MaxKeys bounds the keys one file may hold. The EN specification advises at
	// most 750 000; reading stops there so a hostile file cannot exhaust memory.
	MaxKeys = 750_000
)

// Errors to check with errors.Is.
var (
	ErrFormat    = errors.New("not a valid export file")
	ErrSignature = errors.New("signature does not verify")
	ErrUnsigned  = errors.New("no signature for this public key")
)

// ReportType says why a key was published.
type ReportType int32

// Report types, numbered as in the EN protobuf.
const (
	ReportUnknown           ReportType = 0
	ReportConfirmedTest     ReportType = 1
	ReportConfirmedClinical ReportType = 2
	ReportSelfReport        ReportType = 3
	ReportRecursive         ReportType = 4
	ReportRevoked           ReportType = 5
)

var reportNames = [...]string{"UNKNOWN", "CONFIRMED_TEST", "CONFIRMED_CLINICAL_DIAGNOSIS", "SELF_REPORT", "RECURSIVE", "REVOKED"}

// String returns the protobuf name of the report type.
func (r ReportType) String() string {
	if r >= 0 && int(r) < len(reportNames) {
		return reportNames[r]
	}
	return strconv.Itoa(int(r))
}

// ParseReportType accepts a protobuf name (case-insensitive) or its number.
func ParseReportType(s string) (ReportType, error) {
	for i, n := range reportNames {
		if strings.EqualFold(s, n) {
			return ReportType(i), nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(reportNames) {
		return ReportType(n), nil
	}
	return 0, fmt.Errorf("report type %q: want one of %s", s, strings.Join(reportNames[:], ", "))
}

// Key is one published temporary exposure key.
type Key struct {
	Data          [KeyLength]byte
	RollingStart  uint32 // first ENIntervalNumber the key covers
	RollingPeriod uint32 // intervals covered, 1..144
	ReportType    ReportType
	// TransmissionRisk is deprecated by EN v2 but still carried for old clients.
	TransmissionRisk int32
	// DaysSinceOnset is the key's day minus the symptom onset day, -14..14.
	DaysSinceOnset int32
	// Missing names the optional fields the key lacks on the wire (their
	// values above are then the protobuf defaults). The zero value, every
	// field present, is what Bluezone writes; reading a file sets it, so
	// that a key passed on (federation, export inspect → export sign) keeps
	// its fields as they came: EN clients treat a missing days_since_onset
	// otherwise than 0.
	Missing Fields
}

// Fields is a set of a key's optional protobuf fields.
type Fields uint8

// The optional fields of a key. A report type of UNKNOWN is written as a
// missing report type whatever Missing says (as before Missing existed):
// both mean the same to EN clients.
const (
	FieldTransmissionRisk Fields = 1 << iota
	FieldReportType
	FieldDaysSinceOnset
	FieldRollingPeriod // protobuf default 144
)

var fieldNames = []struct {
	f    Fields
	name string
}{
	{FieldRollingPeriod, "rolling_period"},
	{FieldReportType, "report_type"},
	{FieldTransmissionRisk, "transmission_risk"},
	{FieldDaysSinceOnset, "days_since_onset"},
}

// String lists the fields in column order, joined by '+', e.g.
// "report_type+days_since_onset"; "" for none.
func (fs Fields) String() string {
	var names []string
	for _, n := range fieldNames {
		if fs&n.f != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, "+")
}

// ParseFields reads what Fields.String writes.
func ParseFields(s string) (Fields, error) {
	var fs Fields
	for _, part := range strings.Split(s, "+") {
		i := slices.IndexFunc(fieldNames, func(n struct {
			f    Fields
			name string
		}) bool {
			return n.name == part
		})
		if i < 0 {
			return 0, fmt.Errorf("field %q: want rolling_period, report_type, transmission_risk or days_since_onset", part)
		}
		fs |= fieldNames[i].f
	}
	return fs, nil
}

// Hex returns the key bytes in lowercase hexadecimal.
func (k Key) Hex() string { return hex.EncodeToString(k.Data[:]) }

// File is the content of an export.bin.
type File struct {
	Start, End time.Time // arrival window of the keys at the server
	Region     string
	BatchNum   int32 // 1-based; EN asks for 1 of 1
	BatchSize  int32
	Signatures []SignatureInfo
	Keys       []Key
	// Revised holds keys whose status changed since an earlier file, such as revocations.
	Revised []Key
}

// SignatureInfo identifies a signing key so that clients can pick the public key to verify with.
type SignatureInfo struct {
	KeyVersion string // e.g. "v1"
	KeyID      string // e.g. the authority's ID, alphanumerics, '_' and '.'
	Algorithm  string // AlgorithmECDSAP256SHA256
}
