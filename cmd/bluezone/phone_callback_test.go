package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestPhoneCallback: a phone warned F1 asks for a callback from the shell;
// the request reaches the authority's queue with the warning's date and
// level; a phone without a warning is refused before anything is sent.
func TestPhoneCallback(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "bluezone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, _ := blob.NewDir(filepath.Join(dir, "exports"))
	key := make([]byte, server.CallbackKeySize)
	rand.Read(key)
	srv, err := server.New(ctx, server.Config{MinBatchKeys: 20, Callback: server.CallbackConfig{Keys: [][]byte{key}}}, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	clock := time.Date(2026, 11, 20, 10, 7, 0, 0, time.UTC)
	srv.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	srv.ExportOnce(ctx)
	must := func(args ...string) string {
		t.Helper()
		out, stderr, code := run(t, "", args...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
		return out
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	must("phone", "create", "--dir", a)
	must("phone", "create", "--dir", b, "--language", "vi")
	meet := time.Date(2026, 11, 19, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		at := fmt.Sprint(meet.Add(time.Duration(i) * 2 * time.Minute).Unix())
		payload := strings.Fields(must("phone", "advertise-now", "--dir", a, "--at", at))[0]
		must("phone", "hear", "--dir", b, payload, "-66", at)
	}
	if _, stderr, code := run(t, "", "phone", "callback", "--dir", b, "--server", hs.URL, "--phone-number", "0912345678", "--at", "2026-11-20T10:07:00Z"); code != 1 || !strings.Contains(stderr, "no warning") {
		t.Fatalf("without a warning: exit %d: %s", code, stderr)
	}
	if _, stderr, code := run(t, "", "phone", "callback", "--dir", b, "--server", hs.URL); code != 2 || !strings.Contains(stderr, "--phone-number") {
		t.Fatalf("without a number: exit %d: %s", code, stderr)
	}
	code, err := srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: meet, IssuedBy: "test"})
	if err != nil {
		t.Fatal(err)
	}
	apiKey, err := srv.CreateAPIKey(ctx, "vn.gov.bluezone", "android", "test")
	if err != nil {
		t.Fatal(err)
	}
	must("phone", "upload", "--dir", a, "--server", hs.URL, "--api-key", apiKey.Key, "--code", code.Code, "--at", "2026-11-20T10:07:00Z")
	mu.Lock()
	clock = clock.Add(time.Hour)
	mu.Unlock()
	if _, err := srv.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	must("phone", "sync", "--dir", b, "--server", hs.URL, "--trust-server-key", "--at", "2026-11-20T11:10:00Z")
	out := must("phone", "callback", "--dir", b, "--server", hs.URL, "--phone-number", "+84 912 345 678", "--at", "2026-11-20T11:10:00Z")
	if out != "callback: F1 on 2026-11-19, language vi\nthe server deletes the request after 2026-12-04T11:00:00Z unless an official handles it first\n" {
		t.Fatalf("callback output:\n%s", out)
	}
	q, err := srv.CallbackQueue(ctx, 10)
	if err != nil || len(q) != 1 || q[0].PhoneNumber != "+84912345678" || q[0].ExposureDate != "2026-11-19" || q[0].Level != 1 || q[0].Language != "vi" {
		t.Fatalf("queue: %+v %v", q, err)
	}
}
