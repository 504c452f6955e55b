package blob_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/bluezone-vn/bluezone/blob"
)

// TestS3 runs the S3 store against an in-process S3 server over real HTTP.
func TestS3(t *testing.T) {
	ctx := context.Background()
	backend := s3mem.New()
	if err := backend.CreateBucket("exports"); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(gofakes3.New(backend).Server())
	defer ts.Close()
	cfg := blob.S3Config{Endpoint: strings.TrimPrefix(ts.URL, "http://"), Bucket: "exports", Prefix: "bluezone", AccessKey: "k", SecretKey: "s", Insecure: true}
	if _, err := blob.NewS3(ctx, blob.S3Config{Endpoint: cfg.Endpoint, Bucket: "missing", AccessKey: "k", SecretKey: "s", Insecure: true}); err == nil {
		t.Fatal("a missing bucket: want error")
	}
	s, err := blob.NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "VN/1-2.zip", []byte("zipdata")); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Get(ctx, "VN/1-2.zip"); err != nil || string(b) != "zipdata" {
		t.Fatalf("get: %q %v", b, err)
	}
	// The object is under the prefix, with its metadata. (The fake server
	// keeps Content-Type but drops Cache-Control; TestCacheControl covers that.)
	resp, err := http.Get(ts.URL + "/exports/bluezone/VN/1-2.zip")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || got != "application/zip" {
		t.Errorf("status %d, Content-Type %q", resp.StatusCode, got)
	}
	if err := s.Delete(ctx, "VN/1-2.zip"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "VN/1-2.zip"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.Put(ctx, "../escape", nil); err == nil {
		t.Fatal("bad name accepted")
	}
}

func TestCacheControl(t *testing.T) {
	for name, want := range map[string]string{
		"index.txt":  "public, max-age=300",
		"VN/1-2.zip": "public, max-age=86400, immutable",
		"public.pem": "public, max-age=3600",
	} {
		if got := blob.CacheControl(name); got != want {
			t.Errorf("CacheControl(%q) = %q, want %q", name, got, want)
		}
	}
}
