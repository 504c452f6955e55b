package export_test

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

func sampleZip(f *testing.F) []byte {
	key, _ := export.GenerateKey()
	var buf bytes.Buffer
	file := &export.File{Start: time.Unix(1, 0), End: time.Unix(2, 0), Region: "VN", BatchNum: 1, BatchSize: 1,
		Keys: []export.Key{{RollingStart: 2834064, RollingPeriod: 144, ReportType: export.ReportConfirmedTest}}}
	if err := export.Write(&buf, file, export.Signer{Key: key, Info: export.SignatureInfo{KeyID: "f"}}); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzRead: a file from the network must give a classified error or a file, never a panic.
func FuzzRead(f *testing.F) {
	f.Add(sampleZip(f))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := export.Read(data)
		if err != nil {
			if !errors.Is(err, export.ErrFormat) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if err := a.Verify(mustPub(t)); err == nil {
			t.Fatal("a fuzzed file verified with a fresh key")
		}
	})
}

func mustPub(t *testing.T) *ecdsa.PublicKey {
	k, err := export.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

// FuzzUnmarshalBin: what decodes must encode and decode to the same keys.
func FuzzUnmarshalBin(f *testing.F) {
	f.Add([]byte(export.Header))
	f.Add([]byte(export.Header + "\x3a\x16\x0a\x10" + strings.Repeat("k", 16) + "\x18\x90\xfc\xac\x01\x20\x90\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := export.UnmarshalBin(data)
		if err != nil {
			if !errors.Is(err, export.ErrFormat) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if file.BatchNum < 1 || file.BatchSize < file.BatchNum || file.End.Before(file.Start) {
			return // readable but not something we would write
		}
		again, err := export.MarshalBin(file)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		back, err := export.UnmarshalBin(again)
		if err != nil || len(back.Keys) != len(file.Keys) || len(back.Revised) != len(file.Revised) {
			t.Fatalf("round trip: %v", err)
		}
		// Every field comes back, present or missing as it was (an
		// UNKNOWN report type is never written: it comes back missing).
		norm := func(keys []export.Key) []export.Key {
			out := slices.Clone(keys)
			for i := range out {
				if out[i].ReportType == export.ReportUnknown {
					out[i].Missing |= export.FieldReportType
				}
			}
			slices.SortFunc(out, func(a, b export.Key) int { return strings.Compare(export.FormatKey(a), export.FormatKey(b)) })
			return out
		}
		if !slices.Equal(norm(file.Keys), norm(back.Keys)) || !slices.Equal(norm(file.Revised), norm(back.Revised)) {
			t.Fatalf("round trip changed keys:\n%+v\n%+v", file.Keys, back.Keys)
		}
	})
}

func FuzzParseKeys(f *testing.F) {
	f.Add("00112233445566778899aabbccddeeff,2834064,72,RECURSIVE,0,-3\n")
	f.Add("key,x\nffeeddccbbaa99887766554433221100 2833920\n")
	f.Add("00112233445566778899aabbccddeeff 2834064 144 UNKNOWN 0 0 absent=report_type+days_since_onset\n")
	f.Fuzz(func(t *testing.T, s string) {
		keys, err := export.ParseKeys(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, k := range keys {
			if err := k.Validate(); err != nil {
				t.Fatalf("parsed an invalid key: %v", err)
			}
			back, err := export.ParseKeys(strings.NewReader(export.FormatKey(k)))
			if err != nil || len(back) != 1 || back[0] != k {
				t.Fatalf("round trip of %+v: %+v, %v", k, back, err)
			}
		}
	})
}
