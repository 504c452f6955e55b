package server_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestConfigRefusesChaffDelayBelowOneMs: a negative chaff delay would make
// every chaff answer panic (the delay is drawn at random around it), so
// New refuses it instead of starting a server that fails later; 0 still
// means the default.
func TestConfigRefusesChaffDelayBelowOneMs(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		ms      int
		refused bool
	}{{-1, true}, {0, false}, {1, false}} {
		db, err := store.Open(ctx, filepath.Join(t.TempDir(), "bluezone.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		dir, _ := blob.NewDir(t.TempDir())
		_, err = server.New(ctx, server.Config{ChaffResponseMs: tt.ms}, db, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if refused := err != nil && strings.Contains(err.Error(), "chaff"); refused != tt.refused {
			t.Errorf("ChaffResponseMs %d: error %v, want refused %v", tt.ms, err, tt.refused)
		}
	}
}
