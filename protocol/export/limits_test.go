package export_test

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/protocol/export/internal/exportpb"
)

// The reader's published bounds (export/archive.go): export.bin at most
// 64 MiB, export.sig at most 64 KiB, at most 16 zip entries.
const (
	maxBin     = 64 << 20
	maxSig     = 64 << 10
	maxEntries = 16
)

type zipEntry struct {
	name string
	data []byte
}

// storedZip writes entries uncompressed (fast for the large ones), in order.
func storedZip(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// padProto appends an unknown length-delimited field (number 15) so that the
// message is exactly size bytes; protobuf readers skip unknown fields.
func padProto(t *testing.T, msg []byte, size int) []byte {
	t.Helper()
	for n := size - len(msg) - 2; n >= 0; n-- { // find the payload length that lands on size
		b := protowire.AppendTag(bytes.Clone(msg), 15, protowire.BytesType)
		b = protowire.AppendBytes(b, make([]byte, n))
		if len(b) == size {
			return b
		}
	}
	t.Fatalf("cannot pad %d bytes to %d", len(msg), size)
	return nil
}

// signedParts writes a small signed export and returns its bin and sig.
func signedParts(t *testing.T) (bin, sig []byte, key *ecdsa.PrivateKey) {
	t.Helper()
	key, err := export.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f := &export.File{Start: time.Unix(1700000000, 0).UTC(), End: time.Unix(1700003600, 0).UTC(), Region: "VN", BatchNum: 1, BatchSize: 1,
		Keys: []export.Key{mustKey(t, "00112233445566778899aabbccddeeff", 2834064, 144, export.ReportConfirmedTest, 0, 0)}}
	var buf bytes.Buffer
	if err := export.Write(&buf, f, export.Signer{Key: key, Info: export.SignatureInfo{KeyID: "452", KeyVersion: "v1"}}); err != nil {
		t.Fatal(err)
	}
	files := unzipAll(t, buf.Bytes())
	return files[export.BinName], files[export.SigName], key
}

// TestReadSizeLimits: export.bin and export.sig are read up to their limit
// inclusive, and one byte more is a format error, whether the zip header
// tells the true size or not.
func TestReadSizeLimits(t *testing.T) {
	bin, sig, key := signedParts(t)
	binBody := bin[len(export.Header):]
	bigBin := func(size int) []byte {
		return append([]byte(export.Header), padProto(t, binBody, size-len(export.Header))...)
	}
	tests := []struct {
		name    string
		bin     []byte
		sig     []byte
		wantErr error
	}{
		{"sig exactly at limit", bin, padProto(t, sig, maxSig), nil},
		{"sig one over", bin, padProto(t, sig, maxSig+1), export.ErrFormat},
		{"bin exactly at limit", bigBin(maxBin), nil, nil},
		{"bin one over", bigBin(maxBin + 1), nil, export.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := []zipEntry{{export.BinName, tt.bin}}
			if tt.sig != nil {
				entries = append(entries, zipEntry{export.SigName, tt.sig})
			}
			a, err := export.Read(storedZip(t, entries...))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Read err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(a.Bin, tt.bin) {
				t.Errorf("Bin is %d bytes, want the %d written", len(a.Bin), len(tt.bin))
			}
			if len(a.File.Keys) != 1 {
				t.Errorf("read %d keys, want 1", len(a.File.Keys))
			}
			if tt.sig != nil {
				if err := a.Verify(&key.PublicKey); err != nil {
					t.Errorf("Verify: %v", err)
				}
			}
		})
	}
}

// TestReadSizeLimitWhenHeaderLies: a zip entry whose header claims fewer
// bytes than it holds is a format error, not a larger read.
func TestReadSizeLimitWhenHeaderLies(t *testing.T) {
	bin, sig, _ := signedParts(t)
	big := padProto(t, sig, maxSig+1)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: export.BinName, Method: zip.Store})
	w.Write(bin)
	// CreateRaw writes the header as given: it claims 10 bytes.
	w, err := zw.CreateRaw(&zip.FileHeader{Name: export.SigName, Method: zip.Store,
		CRC32: crc32.ChecksumIEEE(big), CompressedSize64: uint64(len(big)), UncompressedSize64: 10})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(big)
	zw.Close()
	if _, err := export.Read(buf.Bytes()); !errors.Is(err, export.ErrFormat) {
		t.Fatalf("Read err = %v, want ErrFormat", err)
	}
}

// TestReadEntryCountLimit: 16 zip entries are read, 17 refused.
func TestReadEntryCountLimit(t *testing.T) {
	bin, sig, _ := signedParts(t)
	zipWith := func(n int) []byte {
		entries := []zipEntry{{export.BinName, bin}, {export.SigName, sig}}
		for i := len(entries); i < n; i++ {
			entries = append(entries, zipEntry{fmt.Sprintf("extra%d.txt", i), []byte("x")})
		}
		return storedZip(t, entries...)
	}
	if _, err := export.Read(zipWith(maxEntries)); err != nil {
		t.Errorf("%d entries: %v, want accepted", maxEntries, err)
	}
	if _, err := export.Read(zipWith(maxEntries + 1)); !errors.Is(err, export.ErrFormat) {
		t.Errorf("%d entries: %v, want ErrFormat", maxEntries+1, err)
	}
}

// TestVerifySignatureAlgorithms: a signature with no algorithm named is
// checked as ECDSA P-256/SHA-256 (EN's only algorithm); signatures of other
// algorithms are not checked at all, so a file with only those is unsigned;
// a checked signature that fails is ErrSignature, counted in the message.
func TestVerifySignatureAlgorithms(t *testing.T) {
	bin, sig, key := signedParts(t)
	other, _ := export.GenerateKey()
	withAlgorithms := func(algs ...*string) []byte {
		var list exportpb.TEKSignatureList
		if err := proto.Unmarshal(sig, &list); err != nil {
			t.Fatal(err)
		}
		one := list.Signatures[0]
		list.Signatures = nil
		for _, a := range algs {
			s := proto.Clone(one).(*exportpb.TEKSignature)
			s.SignatureInfo.SignatureAlgorithm = a
			list.Signatures = append(list.Signatures, s)
		}
		b, err := proto.Marshal(&list)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ecdsaOID := export.AlgorithmECDSAP256SHA256
	tests := []struct {
		name    string
		sig     []byte
		pub     *ecdsa.PublicKey
		wantErr error
		wantMsg string
	}{
		{"named algorithm", withAlgorithms(&ecdsaOID), &key.PublicKey, nil, ""},
		{"no algorithm named", withAlgorithms(nil), &key.PublicKey, nil, ""},
		{"empty algorithm", withAlgorithms(proto.String("")), &key.PublicKey, nil, ""},
		{"only another algorithm", withAlgorithms(proto.String("1.2.3.4")), &key.PublicKey, export.ErrUnsigned, ""},
		{"no signatures", withAlgorithms(), &key.PublicKey, export.ErrUnsigned, ""},
		{"wrong key", withAlgorithms(&ecdsaOID), &other.PublicKey, export.ErrSignature, "export: 1 signature(s) checked"},
		{"two, wrong key", withAlgorithms(&ecdsaOID, nil), &other.PublicKey, export.ErrSignature, "export: 2 signature(s) checked"},
		{"other algorithm and wrong key", withAlgorithms(proto.String("1.2.3.4"), &ecdsaOID), &other.PublicKey, export.ErrSignature, "export: 1 signature(s) checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := export.Read(storedZip(t, zipEntry{export.BinName, bin}, zipEntry{export.SigName, tt.sig}))
			if err != nil {
				t.Fatal(err)
			}
			err = a.Verify(tt.pub)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			if tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Verify = %q, want it to say %q", err, tt.wantMsg)
			}
		})
	}
}
