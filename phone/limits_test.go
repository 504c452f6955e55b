package phone

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
)

// The download bounds of a sync: index.txt at most 1 MiB, one export file at
// most 32 MiB (a full EN file of 750 000 keys is about 25 MB).
const (
	indexLimit  = 1 << 20
	exportLimit = 32 << 20
)

// paddedExport returns a signed export zip of exactly size bytes: the
// export, plus a stored padding.txt, which readers ignore.
func paddedExport(t *testing.T, auth *authority, keys []export.Key, size int) []byte {
	t.Helper()
	orig := auth.export(t, keys, nil)
	zr, err := zip.NewReader(bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	build := func(pad int) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, f := range zr.File {
			if err := zw.Copy(f); err != nil {
				t.Fatal(err)
			}
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "padding.txt", Method: zip.Store})
		w.Write(make([]byte, pad))
		zw.Close()
		return buf.Bytes()
	}
	small := build(0)
	b := build(size - len(small)) // stored: every padding byte is one zip byte
	if len(b) != size {
		t.Fatalf("padded export is %d bytes, want %d", len(b), size)
	}
	return b
}

// TestSyncDownloadLimits: an index.txt of exactly 1 MiB and an export file
// of exactly 32 MiB are read; one byte more is refused (the index fails the
// sync, the file is counted as failed and tried again later).
func TestSyncDownloadLimits(t *testing.T) {
	auth := newAuthority(t)
	a := newPhone(t, -8)
	start := day0.Add(9 * time.Hour)
	now := start.Add(24 * time.Hour).Unix()
	tests := []struct {
		name                 string
		indexSize, fileSize  int
		wantErr              string // of Sync
		wantFiles, wantFails int
	}{
		{"both at the limit", indexLimit, exportLimit, "", 1, 0},
		{"index one over", indexLimit + 1, exportLimit, "larger than 1048576 bytes", 0, 0},
		{"export one over", indexLimit, exportLimit + 1, "", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newPhone(t, -8)
			b.PinPublicKey(auth.pem)
			meet(t, a, b, start, 20*time.Minute, -60)
			file := paddedExport(t, auth, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), tt.fileSize)
			index := "1.zip\n" + strings.Repeat(" ", tt.indexSize-len("1.zip\n")) // white space lines are skipped
			srv := exportServer(t, nil, nil, func(w http.ResponseWriter, r *http.Request) bool {
				switch strings.TrimPrefix(r.URL.Path, api.PathExports) {
				case api.IndexName:
					w.Write([]byte(index))
				case "1.zip":
					w.Write(file)
				default:
					http.NotFound(w, r)
				}
				return true
			})
			rep, err := b.Sync(context.Background(), &Client{BaseURL: srv.URL}, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Sync = %+v, %v; want an error containing %q", rep, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Files != tt.wantFiles || rep.Failed != tt.wantFails {
				t.Errorf("report %+v: want %d files matched, %d failed", rep, tt.wantFiles, tt.wantFails)
			}
			if tt.wantFails > 0 && !strings.Contains(rep.FirstError, "larger than 33554432 bytes") {
				t.Errorf("first error %q, want the size named", rep.FirstError)
			}
		})
	}
}

// TestClientTimeoutDefaults: zero or negative IdleTimeout and
// MinBytesPerSecond take the documented 30 s and 512 bytes/s; others stay.
func TestClientTimeoutDefaults(t *testing.T) {
	for _, tt := range []struct {
		idle     time.Duration
		rate     int
		wantIdle time.Duration
		wantRate int
	}{
		{0, 0, 30 * time.Second, 512},
		{-time.Second, -1, 30 * time.Second, 512},
		{time.Nanosecond, 1, time.Nanosecond, 1},
		{5 * time.Second, 2000, 5 * time.Second, 2000},
	} {
		idle, rate := (&Client{IdleTimeout: tt.idle, MinBytesPerSecond: tt.rate}).limits()
		if idle != tt.wantIdle || rate != tt.wantRate {
			t.Errorf("IdleTimeout %v, MinBytesPerSecond %d: limits %v, %d; want %v, %d", tt.idle, tt.rate, idle, rate, tt.wantIdle, tt.wantRate)
		}
	}
}

// TestSlowButSteadyDownloadCompletes: a download that takes longer than
// IdleTimeout in all, but keeps receiving above MinBytesPerSecond, is not
// cut: progress pushes the idle watchdog back, and the rate is the average.
func TestSlowButSteadyDownloadCompletes(t *testing.T) {
	auth := newAuthority(t)
	b := newPhone(t, -8)
	b.PinPublicKey(auth.pem)
	file := auth.export(t, nil, nil)
	srv := exportServer(t, nil, nil, func(w http.ResponseWriter, r *http.Request) bool {
		if strings.TrimPrefix(r.URL.Path, api.PathExports) != "1.zip" {
			return false
		}
		// 4 000 bytes/s against a floor of 1 000, for about 1 s with idle 300 ms.
		body := append(bytes.Clone(file), make([]byte, 4000)...)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		for i := 0; i < len(body); i += 400 {
			w.Write(body[i:min(i+400, len(body))])
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
		return true
	})
	c := &Client{BaseURL: srv.URL, IdleTimeout: 300 * time.Millisecond, MinBytesPerSecond: 1000}
	got, err := c.get(context.Background(), api.PathExports+"1.zip", exportLimit)
	if err != nil {
		t.Fatalf("steady download of %d bytes: %v", len(file)+4000, err)
	}
	if len(got) != len(file)+4000 {
		t.Errorf("got %d bytes, want %d", len(got), len(file)+4000)
	}
}

// TestSyncAppliesPublishedRiskConfig: a signed risk configuration the
// server publishes is applied at the sync; without one the defaults stay.
func TestSyncAppliesPublishedRiskConfig(t *testing.T) {
	auth := newAuthority(t)
	cfg := risk.DefaultConfig()
	cfg.MinutesThreshold = 10
	data, sig, err := risk.SignConfig(cfg, auth.key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		publish   bool
		threshold float64
	}{{"published", true, 10}, {"not published", false, 15}} {
		t.Run(tt.name, func(t *testing.T) {
			b := newPhone(t, -8)
			b.PinPublicKey(auth.pem)
			files := map[string][]byte{}
			if tt.publish {
				files[api.RiskConfigName], files[api.RiskConfigSigName] = data, sig
			}
			srv := exportServer(t, files, nil, nil)
			if _, err := b.Sync(context.Background(), &Client{BaseURL: srv.URL}, day0.Unix()); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			b.mu.Lock()
			got := b.risk.MinutesThreshold
			b.mu.Unlock()
			if got != tt.threshold {
				t.Errorf("minutes threshold after sync %v, want %v", got, tt.threshold)
			}
		})
	}
}

// TestChaffScheduleIs12To36Hours: after the first call starts the
// schedule, chaff is never due sooner than 12 hours after the last draw and
// always due 36 hours after it.
func TestChaffScheduleIs12To36Hours(t *testing.T) {
	e := newPhone(t, -8)
	now := day0.Unix()
	if due, err := e.ChaffDue(now); err != nil || due {
		t.Fatalf("first ChaffDue = %v, %v; want false (it only starts the schedule)", due, err)
	}
	for i := range 100 {
		if due, _ := e.ChaffDue(now + 12*3600 - 1); due {
			t.Fatalf("draw %d: chaff due less than 12 h after the previous draw", i)
		}
		now += 36 * 3600
		if due, _ := e.ChaffDue(now); !due {
			t.Fatalf("draw %d: chaff not due 36 h after the previous draw", i)
		}
	}
}

// TestConfigBounds: the radio settings' edges are accepted: TX power
// −128..127 dBm (a signed byte in the metadata), 1 s of advertising, 1 s of
// scanning, and scanning all the time (on = every).
func TestConfigBounds(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"tx -128", Config{TxPower: -128}, true},
		{"tx 127", Config{TxPower: 127}, true},
		{"tx -129", Config{TxPower: -129}, false},
		{"tx 128", Config{TxPower: 128}, false},
		{"advertise 1 s", Config{AdvertiseOnSeconds: 1}, true},
		{"advertise -1 s", Config{AdvertiseOnSeconds: -1}, false},
		{"scan 1 s every 120", Config{ScanOnSeconds: 1}, true},
		{"scan all the time", Config{ScanOnSeconds: 60, ScanEverySeconds: 60}, true},
		{"scan longer than its period", Config{ScanOnSeconds: 61, ScanEverySeconds: 60}, false},
		{"service EN", Config{Service: int(0xFD6F)}, true},
		{"service other", Config{Service: 0x1234}, false},
	} {
		_, err := OpenStorage(NewMemoryStorage(), storageKey(1), tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// TestSlowStartIsNotTooSlow: the average rate is judged only after
// IdleTimeout (docs of Client): a server that takes 200 ms to send its first
// few bytes, then sends the rest at once, is not cut.
func TestSlowStartIsNotTooSlow(t *testing.T) {
	srv := exportServer(t, nil, nil, func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Length", "20010")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep(200 * time.Millisecond)
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		time.Sleep(50 * time.Millisecond)
		w.Write(make([]byte, 20000))
		return true
	})
	c := &Client{BaseURL: srv.URL, IdleTimeout: 300 * time.Millisecond, MinBytesPerSecond: 1000}
	got, err := c.get(context.Background(), api.PathExports+"x", exportLimit)
	if err != nil || len(got) != 20010 {
		t.Fatalf("slow start: %d bytes, %v; want all 20010", len(got), err)
	}
}
