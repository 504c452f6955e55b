package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// TestRunBackgroundWritesExports runs the production loop that `serve`
// starts (RunBackground, which runs RunExportWorker) on a short real period
// against the fake clock: published keys appear in a signed export listed in
// index.txt without anyone calling ExportOnce, and the loop returns promptly
// when its context ends, having flushed the day's statistics.
func TestRunBackgroundWritesExports(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{MinBatchKeys: 20})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			go func() { defer close(done); e.srv.RunBackground(ctx, 20*time.Millisecond) }()
			// Its first run starts the batches at the current period and
			// publishes the signing key.
			waitFor(t, "public.pem", func() bool {
				resp, _ := e.get(t, api.PathExports+api.PublicKeyName)
				return resp.StatusCode == 200
			})
			code, err := e.srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: e.clock.now().Add(-72 * time.Hour), IssuedBy: "o"})
			if err != nil {
				t.Fatal(err)
			}
			keys, raw := phoneKeys(e.clock.now(), 14)
			if st, pr, body := e.upload(t, code.Code, keys); st != 200 || pr.Inserted != 14 {
				t.Fatalf("publish: %d %s", st, body)
			}
			// Past the batch end: the 13 keys of earlier days are due (today's is embargoed).
			e.clock.add(time.Hour)
			var names []string
			waitFor(t, "an export in index.txt", func() bool {
				if resp, index := e.get(t, api.PathExports+api.IndexName); resp.StatusCode == 200 {
					names = strings.Fields(string(index))
				}
				return len(names) > 0
			})
			_, pemKey := e.get(t, api.PathExports+api.PublicKeyName)
			pub, err := export.ParsePublicKeyPEM(pemKey)
			if err != nil {
				t.Fatal(err)
			}
			_, zip := e.get(t, api.PathExports+names[0])
			a, err := export.Read(zip)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Verify(pub); err != nil {
				t.Fatalf("export %s: %v", names[0], err)
			}
			want := map[string]bool{}
			for _, k := range raw[:13] {
				want[string(k[:])] = true
			}
			found := 0
			for _, k := range a.File.Keys {
				if want[string(k.Data[:])] {
					found++
				}
			}
			if len(names) != 1 || found != 13 {
				t.Errorf("index %q; the export holds %d of the 13 due keys, want 1 file with all 13", names, found)
			}

			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("RunBackground still running 10 s after its context ended")
			}
			// The final flush wrote the publish into the day's statistics.
			stats, err := e.db.Stats(context.Background(), e.clock.now().Unix()/86400-1)
			if err != nil {
				t.Fatal(err)
			}
			total := int64(0)
			for _, day := range stats {
				total += day["keys_published"]
			}
			if total != 14 {
				t.Errorf("keys_published in the statistics = %d, want 14 (flushed on shutdown): %v", total, stats)
			}
		})
	}
}

// waitFor polls cond every 20 ms for at most 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s after 20 s", what)
		}
	}
}
