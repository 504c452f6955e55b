package protocol_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/reference"
	"github.com/bluezone-vn/bluezone/protocol"
)

// The official EN v1.2 test vector (Google exposure-notifications-internals, TestVectors.java).
const (
	vectorTEK      = "75c734c6dd1a782de7a965da5eb93125"
	vectorStart    = 2642976
	vectorRPIK     = "185ad91db69ec7dd048960f1f3ba6175"
	vectorAEMK     = "d57c46af7a1d83965b9bed8bd152936a"
	vectorRPI0     = "8be6cd371c5c891604bfbe49df845096"
	vectorAEM0     = "72033874"
	vectorTxPower  = 8
	vectorMetadata = "40080000"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeyDerivationVector(t *testing.T) {
	tek, err := protocol.ParseTEK(vectorTEK)
	if err != nil {
		t.Fatal(err)
	}
	if got := tek.RPIK(); hex.EncodeToString(got[:]) != vectorRPIK {
		t.Errorf("RPIK = %x, want %s", got, vectorRPIK)
	}
	if got := tek.AEMK(); hex.EncodeToString(got[:]) != vectorAEMK {
		t.Errorf("AEMK = %x, want %s", got, vectorAEMK)
	}
	md := protocol.Metadata{Version: protocol.MetadataVersion, TxPower: vectorTxPower}
	if got := md.Bytes(); hex.EncodeToString(got[:]) != vectorMetadata {
		t.Errorf("metadata = %x, want %s", got, vectorMetadata)
	}
	if got := protocol.IntervalTime(vectorStart); !got.Equal(time.Date(2020, 4, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("IntervalTime(%d) = %v, want 2020-04-02 00:00 UTC", vectorStart, got)
	}
}

// TestAllVectorIntervals checks all 144 published (RPI, AEM) pairs of the key.
func TestAllVectorIntervals(t *testing.T) {
	data := reference.Read(t, "en-vectors-144.txt")
	tek, _ := protocol.ParseTEK(vectorTEK)
	ids := protocol.NewIdentifiers(tek)
	md := protocol.Metadata{Version: protocol.MetadataVersion, TxPower: vectorTxPower}
	sc := bufio.NewScanner(bytes.NewReader(data))
	i := 0
	for ; sc.Scan(); i++ {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			t.Fatalf("line %d: %q", i+1, sc.Text())
		}
		n := uint32(vectorStart + i)
		rpi := ids.RPI(n)
		if rpi.String() != fields[0] {
			t.Errorf("interval %d: RPI %s, want %s", n, rpi, fields[0])
		}
		aem := ids.EncryptMetadata(rpi, md)
		if hex.EncodeToString(aem[:]) != fields[1] {
			t.Errorf("interval %d: AEM %x, want %s", n, aem, fields[1])
		}
		back, err := ids.DecryptMetadata(rpi, aem)
		if err != nil || back != md {
			t.Errorf("interval %d: decrypt = %+v, %v; want %+v", n, back, err, md)
		}
	}
	if i != protocol.KeyRollingPeriod {
		t.Fatalf("vector file has %d lines, want %d", i, protocol.KeyRollingPeriod)
	}
	// The first line is also written in the issue; check the file agrees.
	if !strings.HasPrefix(string(data), vectorRPI0+" "+vectorAEM0) {
		t.Errorf("vector file starts %q", data[:41])
	}
}

func TestRPIOnlyMatchesFull(t *testing.T) {
	tek, _ := protocol.ParseTEK(vectorTEK)
	full, lite := protocol.NewIdentifiers(tek), protocol.NewRPIOnly(tek)
	for n := uint32(vectorStart); n < vectorStart+protocol.KeyRollingPeriod; n += 37 {
		if full.RPI(n) != lite.RPI(n) {
			t.Fatalf("interval %d differs", n)
		}
	}
	if got := lite.RPI(vectorStart).String(); got != vectorRPI0 {
		t.Fatalf("RPI = %s, want %s", got, vectorRPI0)
	}
}

func TestDecryptMetadataRejectsUnknownVersion(t *testing.T) {
	tek, _ := protocol.ParseTEK(vectorTEK)
	ids := protocol.NewIdentifiers(tek)
	rpi := ids.RPI(vectorStart)
	aem := ids.EncryptMetadata(rpi, protocol.Metadata{Version: 0x80, TxPower: -10}) // major version 2
	if _, err := ids.DecryptMetadata(rpi, aem); !errors.Is(err, protocol.ErrMetadataVersion) {
		t.Fatalf("err = %v, want ErrMetadataVersion", err)
	}
	// A minor version bump is still readable.
	aem = ids.EncryptMetadata(rpi, protocol.Metadata{Version: 0x50, TxPower: -10})
	if md, err := ids.DecryptMetadata(rpi, aem); err != nil || md.TxPower != -10 {
		t.Fatalf("minor version: %+v, %v", md, err)
	}
}

func TestParseTEK(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{vectorTEK, false},
		{"", true},
		{"75c7", true},
		{vectorTEK + "00", true},
		{"zz" + vectorTEK[2:], true},
	}
	for _, tt := range tests {
		_, err := protocol.ParseTEK(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseTEK(%q) err = %v, wantErr %v", tt.in, err, tt.wantErr)
		}
	}
}

func TestNewTEK(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 16)
	k, err := protocol.NewTEK(bytes.NewReader(seed))
	if err != nil || !bytes.Equal(k[:], seed) {
		t.Fatalf("NewTEK = %x, %v", k, err)
	}
	if _, err := protocol.NewTEK(bytes.NewReader(seed[:3])); err == nil {
		t.Fatal("short random source: want error")
	}
}

func TestIntervals(t *testing.T) {
	tests := []struct {
		t     time.Time
		n     uint32
		start uint32
	}{
		{time.Date(2020, 4, 2, 0, 0, 0, 0, time.UTC), 2642976, 2642976},
		{time.Date(2020, 4, 2, 0, 9, 59, 0, time.UTC), 2642976, 2642976},
		{time.Date(2020, 4, 2, 23, 59, 59, 0, time.UTC), 2642976 + 143, 2642976},
		{time.Date(2020, 4, 3, 0, 0, 0, 0, time.UTC), 2642976 + 144, 2642976 + 144},
	}
	for _, tt := range tests {
		n := protocol.IntervalNumber(tt.t)
		if n != tt.n || protocol.RollingStart(n) != tt.start {
			t.Errorf("%v: interval %d start %d, want %d %d", tt.t, n, protocol.RollingStart(n), tt.n, tt.start)
		}
	}
	for _, bad := range []string{"", "-1", "1e3", "4294967296", " 12"} {
		if _, err := protocol.ParseInterval(bad); err == nil {
			t.Errorf("ParseInterval(%q): want error", bad)
		}
	}
	if n, err := protocol.ParseInterval("2642976"); err != nil || n != 2642976 {
		t.Errorf("ParseInterval = %d, %v", n, err)
	}
}
