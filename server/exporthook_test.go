package server_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// TestExportHook: the hook's names follow our batches in index.txt, its
// files signed by SignExport verify with the key phones pin, and a failing
// hook fails the run but keeps neither our new batches from index.txt nor
// its own earlier names out of it.
func TestExportHook(t *testing.T) {
	e := newEnv(t, filepath.Join(t.TempDir(), "db"), server.Config{MinBatchKeys: 1})
	ctx := context.Background()
	var fail error
	e.srv.SetExportHook(func(ctx context.Context, now time.Time) ([]string, error) {
		if fail != nil {
			return nil, fail
		}
		var buf bytes.Buffer
		f := &export.File{Start: now.Add(-time.Hour), End: now, Region: "AA", BatchNum: 1, BatchSize: 1}
		if err := e.srv.SignExport(context.Background(), &buf, f); err != nil {
			return nil, err
		}
		if err := e.srv.ExportBlobs().Put(ctx, "AA/1.zip", buf.Bytes()); err != nil {
			return nil, err
		}
		return []string{"AA/1.zip"}, nil
	})
	for range 2 { // the first run starts the batches
		if _, err := e.srv.ExportOnce(ctx); err != nil {
			t.Fatal(err)
		}
		e.clock.add(2 * time.Hour)
	}
	_, index := e.get(t, "/exports/index.txt")
	lines := strings.Fields(string(index))
	if len(lines) < 2 || lines[len(lines)-1] != "AA/1.zip" || !strings.HasPrefix(lines[0], "VN/") {
		t.Fatalf("index.txt = %q: want our batches, then AA/1.zip", index)
	}
	_, data := e.get(t, "/exports/AA/1.zip")
	a, err := export.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := export.ParsePublicKeyPEM(e.srv.ExportPublicKeyPEM())
	if err := a.Verify(pub); err != nil {
		t.Errorf("hook's file: %v", err)
	}
	fail = errors.New("hook failed")
	e.clock.add(2 * time.Hour)
	if _, err := e.srv.ExportOnce(ctx); !errors.Is(err, fail) {
		t.Errorf("ExportOnce with a failing hook: %v", err)
	}
	_, again := e.get(t, "/exports/index.txt")
	if got := strings.Fields(string(again)); len(got) <= len(lines) || got[len(got)-1] != "AA/1.zip" || !strings.HasPrefix(got[len(got)-2], "VN/") {
		t.Errorf("index.txt after a failed hook:\n%s\nwant the new batches, then AA/1.zip still", again)
	}
}
