package export_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/protocol/export/internal/exportpb"
)

// TestKeyValidateBounds pins what EN requires of one key: a rolling period
// of 1..144 intervals, a rolling start that fits the protobuf's int32, and a
// report type from UNKNOWN (0) to REVOKED (5).
func TestKeyValidateBounds(t *testing.T) {
	base := mustKey(t, "00112233445566778899aabbccddeeff", 2834064, 144, export.ReportConfirmedTest, 0, 0)
	tests := []struct {
		name   string
		change func(*export.Key)
		ok     bool
	}{
		{"rolling period 0", func(k *export.Key) { k.RollingPeriod = 0 }, false},
		{"rolling period 1", func(k *export.Key) { k.RollingPeriod = 1 }, true},
		{"rolling period 144", func(k *export.Key) { k.RollingPeriod = 144 }, true},
		{"rolling period 145", func(k *export.Key) { k.RollingPeriod = 145 }, false},
		{"rolling start 0", func(k *export.Key) { k.RollingStart = 0 }, true},
		{"rolling start 2^31-1", func(k *export.Key) { k.RollingStart = 1<<31 - 1 }, true},
		{"rolling start 2^31", func(k *export.Key) { k.RollingStart = 1 << 31 }, false},
		{"report type -1", func(k *export.Key) { k.ReportType = -1 }, false},
		{"report type UNKNOWN", func(k *export.Key) { k.ReportType = export.ReportUnknown }, true},
		{"report type REVOKED", func(k *export.Key) { k.ReportType = export.ReportRevoked }, true},
		{"report type 6", func(k *export.Key) { k.ReportType = 6 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := base
			tt.change(&k)
			if err := k.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestReportTypeNames: the protobuf names and numbers 0..5 both parse; an
// unnamed number prints as itself.
func TestReportTypeNames(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    export.ReportType
		wantErr bool
	}{
		{"UNKNOWN", export.ReportUnknown, false},
		{"0", export.ReportUnknown, false},
		{"revoked", export.ReportRevoked, false},
		{"5", export.ReportRevoked, false},
		{"4", export.ReportRecursive, false},
		{"6", 0, true},
		{"-1", 0, true},
		{"bogus", 0, true},
	} {
		got, err := export.ParseReportType(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseReportType(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	for r, want := range map[export.ReportType]string{0: "UNKNOWN", 1: "CONFIRMED_TEST", 5: "REVOKED", 6: "6", -1: "-1"} {
		if got := r.String(); got != want {
			t.Errorf("ReportType(%d).String() = %q, want %q", int(r), got, want)
		}
	}
}

// TestMaxKeysPerFile: a file holds at most export.MaxKeys (750 000, EN's
// advice) keys and revised keys together, on writing and on reading.
func TestMaxKeysPerFile(t *testing.T) {
	if testing.Short() {
		t.Skip("750 000 keys")
	}
	k := mustKey(t, "00112233445566778899aabbccddeeff", 2834064, 144, export.ReportConfirmedTest, 0, 0)
	file := func(keys, revised int) *export.File {
		f := &export.File{Start: time.Unix(0, 0).UTC(), End: time.Unix(3600, 0).UTC(), Region: "VN", BatchNum: 1, BatchSize: 1}
		f.Keys = make([]export.Key, keys)
		for i := range f.Keys {
			f.Keys[i] = k
		}
		f.Revised = make([]export.Key, revised)
		for i := range f.Revised {
			f.Revised[i] = k
		}
		return f
	}
	full, err := export.MarshalBin(file(export.MaxKeys-1, 1))
	if err != nil {
		t.Fatalf("MarshalBin with %d keys: %v", export.MaxKeys, err)
	}
	if _, err := export.MarshalBin(file(export.MaxKeys-1, 2)); err == nil {
		t.Errorf("MarshalBin with %d keys: want an error", export.MaxKeys+1)
	}
	got, err := export.UnmarshalBin(full)
	if err != nil || len(got.Keys)+len(got.Revised) != export.MaxKeys {
		t.Fatalf("UnmarshalBin of %d keys: %v", export.MaxKeys, err)
	}
	// One more revised key, appended to the protobuf by hand.
	one, _ := proto.Marshal(&exportpb.TemporaryExposureKey{KeyData: k.Data[:], RollingStartIntervalNumber: proto.Int32(2834064), RollingPeriod: proto.Int32(144)})
	over := protowire.AppendBytes(protowire.AppendTag(bytes.Clone(full), 8, protowire.BytesType), one)
	if _, err := export.UnmarshalBin(over); !errors.Is(err, export.ErrFormat) {
		t.Errorf("UnmarshalBin of %d keys: %v, want ErrFormat", export.MaxKeys+1, err)
	}
}

// TestReadRollingStartZero: rolling start 0 (1970) is odd but valid; a
// negative one is a format error.
func TestReadRollingStartZero(t *testing.T) {
	for _, tt := range []struct {
		start int32
		ok    bool
	}{{0, true}, {-1, false}} {
		m := &exportpb.TemporaryExposureKeyExport{Keys: []*exportpb.TemporaryExposureKey{{
			KeyData: make([]byte, 16), RollingStartIntervalNumber: proto.Int32(tt.start), RollingPeriod: proto.Int32(144)}}}
		b, _ := proto.Marshal(m)
		f, err := export.UnmarshalBin(append([]byte(export.Header), b...))
		if (err == nil) != tt.ok {
			t.Errorf("rolling start %d: %v, want ok %v", tt.start, err, tt.ok)
		}
		if err == nil && f.Keys[0].RollingStart != uint32(tt.start) {
			t.Errorf("rolling start %d read as %d", tt.start, f.Keys[0].RollingStart)
		}
	}
}

// TestParsePublicKeyPEM: a P-256 "PUBLIC KEY" block parses; anything else is refused.
func TestParsePublicKeyPEM(t *testing.T) {
	key, _ := export.GenerateKey()
	pub, err := export.MarshalPublicKeyPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := export.ParsePublicKeyPEM(pub)
	if err != nil || !got.Equal(&key.PublicKey) {
		t.Fatalf("ParsePublicKeyPEM(own key) = %v, %v", got, err)
	}
	if _, err := export.ParsePublicKeyPEM([]byte(googleSamplePublicKey)); err != nil {
		t.Errorf("ParsePublicKeyPEM(Google's sample key): %v", err)
	}
	priv, _ := export.MarshalPrivateKeyPEM(key)
	ed25519 := "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"
	garbled := strings.Replace(string(pub), "MFkw", "MFkx", 1)
	for name, bad := range map[string]string{"empty": "", "no PEM": "garbage", "private key": string(priv), "Ed25519": ed25519, "garbled DER": garbled} {
		if k, err := export.ParsePublicKeyPEM([]byte(bad)); err == nil {
			t.Errorf("ParsePublicKeyPEM(%s) = %v, want an error", name, k)
		}
	}
}

// TestParseKeysErrorsNameTheLine: errors say which line, counted from 1 with
// blank and comment lines included, and what a key must look like.
func TestParseKeysErrorsNameTheLine(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"zz 1", "line 1: key \"zz\": want 16 bytes as 32 hexadecimal digits"},
		{"# c\n\n00112233445566778899aabbccddeeff x", "line 3: rolling start \"x\""},
		{"00112233445566778899aabbccddeeff 1\nkey,rolling_start", "line 2:"},
	} {
		_, err := export.ParseKeys(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseKeys(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}
