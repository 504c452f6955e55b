package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// BenchmarkPublishLoad drives the whole upload flow (verify, certificate,
// publish of 14 keys) over HTTP on loopback with 16 concurrent phones, on
// each backend, and reports uploads/s, the p99 latency of an upload, and the
// ratio of an upload's time to a bare /healthz round trip measured in the
// same run. Bounded by -benchtime, e.g.:
//
//	go test -run '^$' -bench PublishLoad -benchtime 3000x ./server
//
// The national goal is 100 000 uploads × 14 keys in 660 s: 152 uploads/s.
func BenchmarkPublishLoad(b *testing.B) {
	for _, be := range dbtest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) { benchPublish(b, be.URL) })
	}
}

const loadWorkers = 16

func benchPublish(b *testing.B, url string) {
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	blobs, _ := blob.NewDir(b.TempDir())
	srv, err := server.New(ctx, server.Config{}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadWorkers}}

	codes := make([]string, b.N)
	for i := range codes {
		c, err := srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: time.Now().Add(-48 * time.Hour), IssuedBy: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		codes[i] = c.Code
	}
	post := func(path string, body, out any) error {
		raw, _ := json.Marshal(body)
		resp, err := client.Post(hs.URL+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: %d %s", path, resp.StatusCode, data)
		}
		return json.Unmarshal(data, out)
	}
	upload := func(code string) error {
		keys, _ := phoneKeys(time.Now(), 14)
		var vr api.VerifyResponse
		if err := post(api.PathVerify, api.VerifyRequest{Code: code}, &vr); err != nil {
			return err
		}
		secret := make([]byte, 32)
		rand.Read(secret)
		var cr api.CertificateResponse
		if err := post(api.PathCertificate, api.CertificateRequest{Token: vr.Token, KeyHMAC: base64.StdEncoding.EncodeToString(api.KeysHMAC(secret, keys))}, &cr); err != nil {
			return err
		}
		var pr api.PublishResponse
		if err := post(api.PathPublish, api.PublishRequest{Keys: keys, Certificate: cr.Certificate, HMACKey: base64.StdEncoding.EncodeToString(secret)}, &pr); err != nil {
			return err
		}
		if pr.Inserted != 14 {
			return fmt.Errorf("inserted %d keys", pr.Inserted)
		}
		return nil
	}
	healthz := func(string) error {
		resp, err := client.Get(hs.URL + "/healthz")
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}

	// run spreads jobs over the workers and returns wall time and latencies.
	run := func(jobs []string, fn func(string) error) (time.Duration, []time.Duration) {
		var mu sync.Mutex
		var lat []time.Duration
		ch := make(chan string)
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < loadWorkers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range ch {
					t0 := time.Now()
					if err := fn(j); err != nil {
						b.Error(err)
					}
					d := time.Since(t0)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		for _, j := range jobs {
			ch <- j
		}
		close(ch)
		wg.Wait()
		return time.Since(start), lat
	}

	b.ResetTimer()
	wall, lat := run(codes, upload)
	b.StopTimer()
	baseWall, _ := run(make([]string, b.N), healthz)
	slices.Sort(lat)
	p99 := lat[len(lat)*99/100]
	b.ReportMetric(float64(b.N)/wall.Seconds(), "uploads/s")
	b.ReportMetric(float64(14*b.N)/wall.Seconds(), "keys/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(wall.Seconds()/baseWall.Seconds(), "x-healthz")
	b.ReportMetric(0, "ns/op")
}
