package phone

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// BenchmarkSync2MKeys: a national sync, 2.1 million published keys in 336
// hourly files (14 days of 150 000 uploads a day), fetched over loopback
// HTTP, verified and matched file by file against a realistic 14-day log.
// It reports the peak heap the sync adds (target ≤ 64 MB) and its time as a
// multiple of the HKDF + 144 AES per key bound measured in the same run
// (target ≤ 1.3×):
//
//	go test -run '^$' -bench Sync2M -benchtime 1x ./phone
func BenchmarkSync2MKeys(b *testing.B) {
	const files, perFile, days = 336, 6250, 14
	auth := newAuthority(b)
	dir := b.TempDir()
	var names []string
	first := protocol.IntervalNumber(day0)
	for i := range files {
		keys := make([]export.Key, perFile)
		for j := range keys {
			rand.Read(keys[j].Data[:])
			keys[j].RollingStart = first + uint32((i*perFile+j)%days)*protocol.KeyRollingPeriod
			keys[j].RollingPeriod = protocol.KeyRollingPeriod
			keys[j].ReportType = export.ReportConfirmedTest
		}
		name := fmt.Sprintf("%d.zip", i)
		if err := os.WriteFile(filepath.Join(dir, name), auth.export(b, keys, nil), 0o600); err != nil {
			b.Fatal(err)
		}
		names = append(names, name)
	}
	os.WriteFile(filepath.Join(dir, api.IndexName), []byte(strings.Join(names, "\n")+"\n"), 0o600)
	srv := httptest.NewServer(http.StripPrefix(api.PathExports, http.FileServer(http.Dir(dir))))
	defer srv.Close()
	now := day0.Add(days * 24 * time.Hour).Unix()

	var ours, base time.Duration
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		e := realisticPhone(b, days)
		e.PinPublicKey(auth.pem)
		runtime.GC()
		before := heapBytes()
		stop := make(chan struct{})
		var top atomic.Uint64
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
					if h := heapBytes(); h > top.Load() {
						top.Store(h)
					}
				}
			}
		}()
		b.StartTimer()
		t0 := time.Now()
		rep, err := e.Sync(context.Background(), &Client{BaseURL: srv.URL}, now)
		ours += time.Since(t0)
		close(stop)
		if err != nil || rep.Files != files || rep.Failed != 0 {
			b.Fatalf("sync %+v, %v", rep, err)
		}
		peak = max(peak, top.Load()-min(top.Load(), before))
		// The baseline reads the keys back from the files first: holding
		// them all during the sync would inflate the heap it measures.
		b.StopTimer()
		var all []export.Key
		for _, n := range names {
			data, _ := os.ReadFile(filepath.Join(dir, n))
			a, err := export.Read(data)
			if err != nil {
				b.Fatal(err)
			}
			all = append(all, a.File.Keys...)
		}
		b.StartTimer()
		t0 = time.Now()
		for _, k := range all {
			ids := protocol.NewRPIOnly(protocol.TEK(k.Data))
			for n := k.RollingStart; n < k.RollingStart+k.RollingPeriod; n++ {
				_ = ids.RPI(n)
			}
		}
		base += time.Since(t0)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(ours)/float64(base), "x-hkdf-aes")
	b.ReportMetric(float64(files*perFile*b.N)/ours.Seconds(), "keys/s")
	b.ReportMetric(0, "ns/op")
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// realisticPhone is a phone that, every day for days, spent 16 waking hours
// among 10 devices, heard in every 5-minute scan (Android EN).
func realisticPhone(b *testing.B, days int) *Engine {
	b.Helper()
	e := newPhone(b, -8)
	for d := range days {
		var plain []byte
		dayStart := day0.Unix() + int64(d)*secondsPerDay
		for t := dayStart + 7*3600; t < dayStart+23*3600; t += 600 {
			for range 10 {
				s := Sighting{Time: t, Samples: []Sample{{0, -70, -71}, {300, -72, -73}}}
				rand.Read(s.RPI[:])
				plain = s.appendTo(plain)
			}
		}
		if err := e.log.append(dayStart/secondsPerDay, plain); err != nil {
			b.Fatal(err)
		}
	}
	return e
}
