package server_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// newServerErr starts a server with cfg on a fresh SQLite database, as
// `bluezone serve` does with its flags, and returns New's error.
func newServerErr(t *testing.T, cfg server.Config) error {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "bluezone.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = server.New(ctx, cfg, db, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return err
}

// TestConfigExportPeriodBounds: --export-period must be at least a minute
// and divide 24 h (docs/operations.md: batches tile the day), so 1m is the
// shortest one taken, and a period that does not divide the day is refused
// however long it is.
func TestConfigExportPeriodBounds(t *testing.T) {
	for _, tt := range []struct {
		period  time.Duration
		refused bool
	}{
		{time.Minute, false},      // the least, exactly
		{59 * time.Second, true},  // one second short
		{30 * time.Second, true},  // divides 24 h, but under a minute
		{7 * time.Minute, true},   // 1440 minutes are not a multiple of 7
		{90 * time.Minute, false}, // 16 batches a day
		{24 * time.Hour, false},
		{25 * time.Hour, true},
		{48 * time.Hour, true},
	} {
		err := newServerErr(t, server.Config{ExportPeriod: tt.period})
		if refused := err != nil && strings.Contains(err.Error(), "export period"); refused != tt.refused || (err != nil && !refused) {
			t.Errorf("ExportPeriod %v: error %v, want refused %v", tt.period, err, tt.refused)
		}
	}
}

// TestConfigMinBatchKeysBounds: --min-batch-keys (the padding target) may
// be up to half of the keys an export file may hold, export.MaxKeys/2, and
// not one more. MaxKeysPerFile is raised to export.MaxKeys so that only this
// bound is at stake (it must be at least the min batch keys).
func TestConfigMinBatchKeysBounds(t *testing.T) {
	for _, tt := range []struct {
		min     int
		refused bool
	}{
		{export.MaxKeys / 2, false},
		{export.MaxKeys/2 + 1, true},
		{1, false},
		{-1, true},
	} {
		err := newServerErr(t, server.Config{MinBatchKeys: tt.min, MaxKeysPerFile: export.MaxKeys})
		if refused := err != nil && strings.Contains(err.Error(), "min batch keys"); refused != tt.refused || (err != nil && !refused) {
			t.Errorf("MinBatchKeys %d: error %v, want refused %v", tt.min, err, tt.refused)
		}
	}
}
