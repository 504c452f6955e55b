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

// TestDemoReleaseNow: with DemoReleaseNow a key still in use goes into an
// export at the next run of the worker, well before its batch ends; without
// it, the same key waits for EN's embargo. The publish answer says when.
func TestDemoReleaseNow(t *testing.T) {
	for _, demo := range []bool{false, true} {
		t.Run(map[bool]string{false: "embargo", true: "demo"}[demo], func(t *testing.T) {
			e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{MinBatchKeys: 5, DemoReleaseNow: demo})
			ctx := context.Background()
			if _, err := e.srv.ExportOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if _, page := e.get(t, "/portal/login"); strings.Contains(string(page), `id="demo-mode"`) != demo {
				t.Errorf("portal page with DemoReleaseNow %v:\n%s", demo, page)
			}
			code, err := e.srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: e.clock.now(), IssuedBy: "o"})
			if err != nil {
				t.Fatal(err)
			}
			keys, _ := phoneKeys(e.clock.now(), 1) // today's key, still in use at 10:07
			st, pr, body := e.upload(t, code.Code, keys)
			if st != 200 || pr.Inserted != 1 {
				t.Fatalf("publish: %d %s", st, body)
			}
			wantAfter := "2026-11-21T02:00:00Z" // 2 h after the key's day ends
			if demo {
				wantAfter = "2026-11-20T10:07:01Z"
			}
			if pr.ExportAfter != wantAfter {
				t.Errorf("export_after %q, want %q", pr.ExportAfter, wantAfter)
			}

			e.clock.add(5 * time.Second) // well inside the 10:00–11:00 batch
			res, err := e.srv.ExportOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if demo && (res.Keys != 1 || res.Batches != 1) || !demo && (res.Keys != 0 || res.Batches != 0) {
				t.Fatalf("export run after 5 s: %+v", res)
			}
			_, index := e.get(t, api.PathExports+api.IndexName)
			if demo && string(index) != "VN/1795168800-1795169225.zip\n" || !demo && string(index) != "" {
				t.Fatalf("index %q", index)
			}
			// Batches go on at the period boundaries, and the key is not
			// exported twice.
			e.clock.add(time.Hour)
			res, err = e.srv.ExportOnce(ctx)
			if err != nil || res.Keys != 0 || res.Batches != 1 {
				t.Fatalf("next run: %+v %v", res, err)
			}
			_, index = e.get(t, api.PathExports+api.IndexName)
			want := "VN/1795168800-1795172400.zip\n"
			if demo {
				want = "VN/1795168800-1795169225.zip\nVN/1795169225-1795172400.zip\n"
			}
			if string(index) != want {
				t.Fatalf("index %q, want %q", index, want)
			}
		})
	}
}
