package export_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluezone-vn/bluezone/internal/reference"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// The public key published beside the sample export in Google's
// exposure-notifications-server (examples/export/public.pem), which signed it.
const googleSamplePublicKey = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEml59itec9qzwVojreLXdPNRsUWzf
YHc1cKvIIi6/H56AJS/kZEYQnfDpxrgyGhdAm+pNN2GAJ3XdnQZ1Sk4amg==
-----END PUBLIC KEY-----
`

func mustKey(t testing.TB, hexKey string, start, period uint32, rt export.ReportType, risk, dso int32) export.Key {
	t.Helper()
	ks, err := export.ParseKeys(strings.NewReader(hexKey + " 0"))
	if err != nil {
		t.Fatal(err)
	}
	k := ks[0]
	k.RollingStart, k.RollingPeriod, k.ReportType, k.TransmissionRisk, k.DaysSinceOnset = start, period, rt, risk, dso
	return k
}

func TestReadGoogleSampleExport(t *testing.T) {
	data := reference.Read(t, "gaen-testExport-2-records.zip")
	a, err := export.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	want := &export.File{
		Start:      time.Unix(1590159600, 0).UTC(),
		End:        time.Unix(1590246000, 0).UTC(),
		Region:     "US",
		BatchNum:   1,
		BatchSize:  1,
		Signatures: []export.SignatureInfo{{KeyVersion: "1", KeyID: "some_id", Algorithm: export.AlgorithmECDSAP256SHA256}},
		Keys: []export.Key{
			mustKey(t, "172fc480e598490c34177604339b1543", 2649980, 1, export.ReportUnknown, 8, 0),
			mustKey(t, "2b63053ac483238de176169e861f3dcd", 2649866, 114, export.ReportUnknown, 1, 0),
		},
	}
	// The sample predates report types and days since onset.
	for i := range want.Keys {
		want.Keys[i].Missing = export.FieldReportType | export.FieldDaysSinceOnset
	}
	if diff := cmp.Diff(want, a.File); diff != "" {
		t.Errorf("file (-want, +got):\n%s", diff)
	}
	pub, err := export.ParsePublicKeyPEM([]byte(googleSamplePublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(pub); err != nil {
		t.Fatalf("verify with the published key: %v", err)
	}
	other, _ := export.GenerateKey()
	if err := a.Verify(&other.PublicKey); !errors.Is(err, export.ErrSignature) {
		t.Fatalf("verify with another key: err = %v, want ErrSignature", err)
	}
}

func TestReadGoogleInternalsBin(t *testing.T) {
	f, err := export.UnmarshalBin(reference.Read(t, "gaen-internals-export-200.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Keys) != 200 || f.Region != "US" || f.Start.Unix() != 1588425586 || f.End.Unix() != 1588857586 {
		t.Fatalf("got %d keys, region %q, window %d..%d", len(f.Keys), f.Region, f.Start.Unix(), f.End.Unix())
	}
	want := mustKey(t, "00068b4d1fb011b9c9ae2744419d4ab3", 2625468, 141, export.ReportUnknown, 2, 0)
	want.Missing = export.FieldReportType | export.FieldDaysSinceOnset
	if diff := cmp.Diff(want, f.Keys[0]); diff != "" {
		t.Errorf("first key (-want, +got):\n%s", diff)
	}
}

// TestMissingFieldsSurviveRewriting: keys of the published samples, which
// lack report_type and days_since_onset, lack them still once written
// again (as federation and 'export inspect' → 'export sign' do), and keys
// that have them keep them.
func TestMissingFieldsSurviveRewriting(t *testing.T) {
	sample, err := export.UnmarshalBin(reference.Read(t, "gaen-internals-export-200.bin"))
	if err != nil {
		t.Fatal(err)
	}
	full := mustKey(t, "00112233445566778899aabbccddeeff", 2834064, 72, export.ReportRecursive, 3, -3)
	zeros := mustKey(t, "01112233445566778899aabbccddeeff", 2834064, 144, export.ReportConfirmedTest, 0, 0)
	bare := mustKey(t, "02112233445566778899aabbccddeeff", 2834064, 144, export.ReportUnknown, 0, 0)
	bare.Missing = export.FieldRollingPeriod | export.FieldReportType | export.FieldTransmissionRisk | export.FieldDaysSinceOnset
	for _, tt := range []struct {
		name string
		keys []export.Key
	}{
		{"Google's 200 keys", sample.Keys},
		{"all present, zeros too", []export.Key{full, zeros}},
		{"all missing", []export.Key{bare}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &export.File{Start: sample.Start, End: sample.End, Region: "US", BatchNum: 1, BatchSize: 1, Keys: tt.keys}
			bin, err := export.MarshalBin(f)
			if err != nil {
				t.Fatal(err)
			}
			back, err := export.UnmarshalBin(bin)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(tt.keys)
			slices.SortFunc(want, func(a, b export.Key) int { return bytes.Compare(a.Data[:], b.Data[:]) })
			if diff := cmp.Diff(want, back.Keys); diff != "" {
				t.Errorf("(-want, +got):\n%s", diff)
			}
		})
	}
	// A missing field must hold its default, or writing would change it.
	bad := full
	bad.Missing = export.FieldDaysSinceOnset
	if _, err := export.MarshalBin(&export.File{BatchNum: 1, BatchSize: 1, Keys: []export.Key{bad}}); err == nil {
		t.Error("MarshalBin of a key whose missing days since onset is -3: want an error")
	}
}

// rezip rebuilds a zip from name → contents, for tampering tests.
func rezip(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func unzipAll(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		out[f.Name] = b.Bytes()
	}
	return out
}

func TestTamperedFilesAreRejected(t *testing.T) {
	data := reference.Read(t, "gaen-testExport-2-records.zip")
	pub, _ := export.ParsePublicKeyPEM([]byte(googleSamplePublicKey))
	orig := unzipAll(t, data)

	flipBin := func(i int) []byte {
		b := bytes.Clone(orig[export.BinName])
		b[i] ^= 1
		return b
	}
	tests := []struct {
		name      string
		data      []byte
		readErr   error // from Read
		verifyErr error // from Verify, when Read succeeds
	}{
		{"key byte changed", rezip(t, map[string][]byte{export.BinName: flipBin(bytes.Index(orig[export.BinName], []byte{0x17, 0x2f, 0xc4}) + 5), export.SigName: orig[export.SigName]}), nil, export.ErrSignature},
		{"region changed", rezip(t, map[string][]byte{export.BinName: bytes.Replace(orig[export.BinName], []byte("US"), []byte("VN"), 1), export.SigName: orig[export.SigName]}), nil, export.ErrSignature},
		{"signature dropped", rezip(t, map[string][]byte{export.BinName: orig[export.BinName]}), nil, export.ErrUnsigned},
		{"header changed", rezip(t, map[string][]byte{export.BinName: flipBin(3), export.SigName: orig[export.SigName]}), export.ErrFormat, nil},
		{"no bin", rezip(t, map[string][]byte{export.SigName: orig[export.SigName]}), export.ErrFormat, nil},
		{"two bins", rezip(t, map[string][]byte{export.BinName: orig[export.BinName], "other.bin": orig[export.BinName]}), export.ErrFormat, nil},
		{"garbage signature list", rezip(t, map[string][]byte{export.BinName: orig[export.BinName], export.SigName: []byte{0xff, 0xff}}), export.ErrFormat, nil},
		{"zip byte flipped (CRC)", func() []byte { b := bytes.Clone(data); b[60] ^= 0xff; return b }(), export.ErrFormat, nil},
		{"not a zip", []byte("hello"), export.ErrFormat, nil},
		{"empty", nil, export.ErrFormat, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := export.Read(tt.data)
			if !errors.Is(err, tt.readErr) {
				t.Fatalf("Read err = %v, want %v", err, tt.readErr)
			}
			if err != nil {
				return
			}
			if err := a.Verify(pub); !errors.Is(err, tt.verifyErr) {
				t.Fatalf("Verify err = %v, want %v", err, tt.verifyErr)
			}
		})
	}
}

func TestWriteReadVerifyRoundTrip(t *testing.T) {
	key, err := export.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f := &export.File{
		Start: time.Unix(1700000000, 0).UTC(), End: time.Unix(1700003600, 0).UTC(),
		Region: "VN", BatchNum: 1, BatchSize: 1,
		Keys: []export.Key{
			mustKey(t, "ffeeddccbbaa99887766554433221100", 2833920, 144, export.ReportConfirmedTest, 0, 2),
			mustKey(t, "00112233445566778899aabbccddeeff", 2834064, 72, export.ReportRecursive, 0, -3),
			mustKey(t, "7f112233445566778899aabbccddeeff", 2834064, 144, export.ReportConfirmedClinical, 0, 0),
		},
		Revised: []export.Key{mustKey(t, "0a112233445566778899aabbccddeeff", 2833776, 144, export.ReportRevoked, 0, 0)},
	}
	orig := slices.Clone(f.Keys)
	info := export.SignatureInfo{KeyVersion: "v1", KeyID: "452", Algorithm: export.AlgorithmECDSAP256SHA256}
	var buf bytes.Buffer
	if err := export.Write(&buf, f, export.Signer{Key: key, Info: info}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(orig, f.Keys); diff != "" {
		t.Fatalf("Write changed its input (-before, +after):\n%s", diff)
	}
	a, err := export.Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Verify(&key.PublicKey); err != nil {
		t.Fatal(err)
	}
	want := *f
	want.Signatures = []export.SignatureInfo{info}
	want.Keys = []export.Key{f.Keys[1], f.Keys[2], f.Keys[0]} // sorted by key bytes
	if diff := cmp.Diff(&want, a.File); diff != "" {
		t.Errorf("read back (-want, +got):\n%s", diff)
	}
	if len(a.Signatures) != 1 || a.Signatures[0].BatchNum != 1 || a.Signatures[0].BatchSize != 1 {
		t.Errorf("signatures = %+v", a.Signatures)
	}
}

// TestOpenSSLVerifiesOurSignature checks interoperability with a verifier
// that is not ours: OpenSSL, as the EN documentation shows.
func TestOpenSSLVerifiesOurSignature(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		// CI always has openssl (as it has the reference files): there a
		// missing one is a failure, not a skipped interoperability check.
		if os.Getenv("CI") == "true" || os.Getenv("BLUEZONE_REQUIRE_REFERENCE") != "" {
			t.Fatalf("openssl is required under CI=true or BLUEZONE_REQUIRE_REFERENCE: %v", err)
		}
		t.Skip("openssl not installed")
	}
	key, _ := export.GenerateKey()
	var buf bytes.Buffer
	f := &export.File{Start: time.Unix(0, 0), End: time.Unix(600, 0), Region: "VN", BatchNum: 1, BatchSize: 1,
		Keys: []export.Key{mustKey(t, "00112233445566778899aabbccddeeff", 2834064, 144, export.ReportConfirmedTest, 0, 0)}}
	if err := export.Write(&buf, f, export.Signer{Key: key, Info: export.SignatureInfo{KeyID: "t", KeyVersion: "v1"}}); err != nil {
		t.Fatal(err)
	}
	a, err := export.Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pubPEM, _ := export.MarshalPublicKeyPEM(&key.PublicKey)
	for name, b := range map[string][]byte{"pub.pem": pubPEM, "export.bin": a.Bin, "sig.der": a.Signatures[0].DER} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", filepath.Join(dir, "pub.pem"),
		"-signature", filepath.Join(dir, "sig.der"), filepath.Join(dir, "export.bin")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("openssl: %v: %s", err, out)
	}
}

func TestWriteRejectsInvalidKeys(t *testing.T) {
	key, _ := export.GenerateKey()
	bad := mustKey(t, "00112233445566778899aabbccddeeff", 2834064, 145, export.ReportConfirmedTest, 0, 0)
	f := &export.File{BatchNum: 1, BatchSize: 1, Keys: []export.Key{bad}}
	if err := export.Write(&bytes.Buffer{}, f, export.Signer{Key: key}); err == nil || !strings.Contains(err.Error(), "rolling period 145") {
		t.Fatalf("err = %v", err)
	}
	f = &export.File{BatchNum: 2, BatchSize: 1}
	if err := export.Write(&bytes.Buffer{}, f, export.Signer{Key: key}); err == nil {
		t.Fatal("batch 2 of 1: want error")
	}
}

func TestPEM(t *testing.T) {
	key, _ := export.GenerateKey()
	priv, _ := export.MarshalPrivateKeyPEM(key)
	back, err := export.ParsePrivateKeyPEM(priv)
	if err != nil || !back.Equal(key) {
		t.Fatalf("private key round trip: %v", err)
	}
	for _, bad := range []string{"", "garbage", googleSamplePublicKey} {
		if _, err := export.ParsePrivateKeyPEM([]byte(bad)); err == nil {
			t.Errorf("ParsePrivateKeyPEM(%q): want error", bad)
		}
	}
	if _, err := export.ParsePublicKeyPEM(priv); err == nil {
		t.Error("ParsePublicKeyPEM(private key): want error")
	}
}

func TestParseKeys(t *testing.T) {
	in := `key,rolling_start,rolling_period,report_type,transmission_risk,days_since_onset
# comment
00112233445566778899aabbccddeeff,2834064,72,RECURSIVE,0,-3

ffeeddccbbaa99887766554433221100 2833920
`
	got, err := export.ParseKeys(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []export.Key{
		mustKey(t, "00112233445566778899aabbccddeeff", 2834064, 72, export.ReportRecursive, 0, -3),
		mustKey(t, "ffeeddccbbaa99887766554433221100", 2833920, 144, export.ReportConfirmedTest, 0, 0),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want, +got):\n%s", diff)
	}
	if line := export.FormatKey(want[0]); line != "00112233445566778899aabbccddeeff 2834064 72 RECURSIVE 0 -3" {
		t.Errorf("FormatKey = %q", line)
	}
	// Missing fields: a seventh column, the six showing the defaults.
	bare := mustKey(t, "00112233445566778899aabbccddeeff", 2834064, 144, export.ReportUnknown, 0, 0)
	bare.Missing = export.FieldReportType | export.FieldDaysSinceOnset
	const bareLine = "00112233445566778899aabbccddeeff 2834064 144 UNKNOWN 0 0 absent=report_type+days_since_onset"
	if line := export.FormatKey(bare); line != bareLine {
		t.Errorf("FormatKey = %q, want %q", line, bareLine)
	}
	if back, err := export.ParseKeys(strings.NewReader(bareLine + "\n" + strings.ReplaceAll(bareLine, " ", ","))); err != nil || len(back) != 2 || back[0] != bare || back[1] != bare {
		t.Errorf("ParseKeys(%q) = %+v, %v; want %+v twice", bareLine, back, err, bare)
	}
	for _, bad := range []string{
		"0011 2834064",
		"00112233445566778899aabbccddeeff",
		"00112233445566778899aabbccddeeff x",
		"00112233445566778899aabbccddeeff 1 0",
		"00112233445566778899aabbccddeeff 1 145",
		"00112233445566778899aabbccddeeff 1 144 NOPE",
		"00112233445566778899aabbccddeeff 1 144 1 0 15",
		"00112233445566778899aabbccddeeff 1 144 1 0 0 extra",
		"00112233445566778899aabbccddeeff 1 144 1 0 0 absent=",
		"00112233445566778899aabbccddeeff 1 144 1 0 0 absent=colour",
		"00112233445566778899aabbccddeeff 1 144 1 0 3 absent=days_since_onset",
		"00112233445566778899aabbccddeeff 1 72 UNKNOWN 0 0 absent=rolling_period",
		"00112233445566778899aabbccddeeff 1 absent=days_since_onset",
		"00112233445566778899aabbccddeeff 1 144 1 0 0 absent=days_since_onset extra",
	} {
		if _, err := export.ParseKeys(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("ParseKeys(%q) err = %v, want a line-1 error", bad, err)
		}
	}
}
