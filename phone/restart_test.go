package phone

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// TestRestartKeepsProcessedFilesAndOlderExposures: what the state records
// survives closing and reopening the phone: export files already matched
// are not downloaded again, and exposures kept in the older format (before
// windows were stored) still warn.
func TestRestartKeepsProcessedFilesAndOlderExposures(t *testing.T) {
	auth := newAuthority(t)
	dir := t.TempDir()
	b, err := Open(dir, storageKey(2), Config{TxPower: -8})
	if err != nil {
		t.Fatal(err)
	}
	b.PinPublicKey(auth.pem)
	now := day0.Add(30 * time.Hour).Unix()
	var downloads atomic.Int32
	file := auth.export(t, nil, nil)
	srv := exportServer(t, nil, nil, func(w http.ResponseWriter, r *http.Request) bool {
		switch strings.TrimPrefix(r.URL.Path, api.PathExports) {
		case api.IndexName:
			w.Write([]byte("1.zip\n"))
		case "1.zip":
			downloads.Add(1)
			w.Write(file)
		default:
			return false
		}
		return true
	})
	c := &Client{BaseURL: srv.URL}
	if rep, err := b.Sync(context.Background(), c, now); err != nil || rep.Files != 1 {
		t.Fatalf("first sync %+v, %v", rep, err)
	}
	// A close contact recorded by an older version: 20 minutes on day0.
	b.mu.Lock()
	b.state.Exposures["00112233445566778899aabbccddeeff"] = []exposure{{Day: day0.Unix() / secondsPerDay, Minutes: 20, ReportType: int32(export.ReportConfirmedTest)}}
	err = b.saveState()
	b.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if w := b.Warning(now); w.Level != LevelF1 {
		t.Fatalf("older exposure of 20 minutes: warning %+v, want F1", w)
	}
	b.Close()

	b2, err := Open(dir, storageKey(2), Config{TxPower: -8})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	if w := b2.Warning(now); w.Level != LevelF1 {
		t.Errorf("after restart: warning %+v, want the older exposure's F1 kept", w)
	}
	if st, err := b2.Status(now); err != nil || st.ExposedKeys != 1 || st.ProcessedExports != 1 {
		t.Errorf("status after restart %+v, %v; want 1 exposed key, 1 processed export", st, err)
	}
	if rep, err := b2.Sync(context.Background(), c, now); err != nil || rep.Files != 0 {
		t.Errorf("sync after restart %+v, %v; want nothing new", rep, err)
	}
	if n := downloads.Load(); n != 1 {
		t.Errorf("1.zip downloaded %d times, want once (it was matched before the restart)", n)
	}
}
