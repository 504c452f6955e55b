package phone

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// realServer is a Bluezone server on loopback (SQLite), with its own clock.
type realServer struct {
	srv    *server.Server
	db     *store.DB
	client *Client
	mu     sync.Mutex
	t      time.Time
}

func newRealServer(t *testing.T, cfg server.Config) *realServer {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "bluezone.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, _ := blob.NewDir(t.TempDir())
	s, err := server.New(ctx, cfg, db, blobs, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	rs := &realServer{srv: s, db: db, t: day0.Add(24*time.Hour + 7*time.Minute)}
	s.SetClock(func() time.Time { rs.mu.Lock(); defer rs.mu.Unlock(); return rs.t })
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	rs.client = &Client{BaseURL: hs.URL}
	rs.export(t, 0) // starts the grid of periods
	return rs
}

// export moves the clock on by d and runs the export worker.
func (rs *realServer) export(t *testing.T, d time.Duration) {
	t.Helper()
	rs.mu.Lock()
	rs.t = rs.t.Add(d)
	rs.mu.Unlock()
	if _, err := rs.srv.ExportOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// publish stores keys (and n random others) due in the current period,
// through the store as the publish endpoint would.
func (rs *realServer) publish(t *testing.T, keys []PublishableKey, n int) {
	t.Helper()
	ctx := context.Background()
	h := make([]byte, 32)
	rand.Read(h)
	rs.mu.Lock()
	at := rs.t.Truncate(time.Hour).Add(time.Hour)
	rs.mu.Unlock()
	id, err := rs.db.CreateCode(ctx, store.Code{HMAC: h, ReportType: 1, IssuedAt: at, ExpiresAt: at})
	if err != nil {
		t.Fatal(err)
	}
	var sk []store.Key
	for _, k := range keys {
		sk = append(sk, store.Key{Data: append([]byte(nil), k.TEK[:]...), RollingStart: int64(k.RollingStart), RollingPeriod: int32(k.RollingPeriod), ReportType: 1, ExportAt: at})
	}
	for range n {
		d := make([]byte, 16)
		rand.Read(d)
		sk = append(sk, store.Key{Data: d, RollingStart: int64(keys[0].RollingStart), RollingPeriod: 144, ReportType: 1, ExportAt: at})
	}
	if _, _, err := rs.db.PublishKeys(ctx, id, sk, 1<<20); err != nil {
		t.Fatal(err)
	}
}

// TestSyncMatchesEveryBatchOfAPeriod: a period split into several files is
// fetched and matched whole, whichever file the contact's key fell into.
func TestSyncMatchesEveryBatchOfAPeriod(t *testing.T) {
	rs := newRealServer(t, server.Config{MaxKeysPerFile: 10, MinBatchKeys: 1})
	a, b := newPhone(t, -8), newPhone(t, -8)
	if err := b.PinPublicKey(rs.srv.ExportPublicKeyPEM()); err != nil {
		t.Fatal(err)
	}
	start := day0.Add(9 * time.Hour)
	meet(t, a, b, start, 20*time.Minute, -60)
	now := start.Add(24 * time.Hour).Unix()
	keys := a.DiagnosisKeys(day0.Unix(), now)
	rs.publish(t, keys, 30-len(keys)) // 30 keys: files of 10
	rs.export(t, time.Hour)
	rep, err := b.Sync(context.Background(), rs.client, now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files != 3 || rep.Keys < 30 || rep.Matched != 1 || rep.Failed != 0 {
		t.Fatalf("report %+v: want 3 files with the 30 keys matched, the contact's found", rep)
	}
	if w := b.Warning(now); w.Level != LevelF1 {
		t.Errorf("warning %+v", w)
	}
}

// TestSyncAcrossKeyRotation: a phone that pins the authority's first key
// keeps matching, and keeps verifying the risk configuration, through a
// rotation: before it, during the overlap (files signed by both keys; the
// phone learns the new key from the listing, endorsed by the old one) and
// after the old key retired (files and configuration signed by the new key
// only). A phone that slept through the whole overlap catches up too, one
// that pins only the new key works from the overlap on, and one that pins
// an unrelated key does not accept the files.
func TestSyncAcrossKeyRotation(t *testing.T) {
	ctx := context.Background()
	rs := newRealServer(t, server.Config{MinBatchKeys: 1})
	oldPEM := rs.srv.ExportPublicKeyPEM()
	b := newPhone(t, -8)       // syncs at every stage
	sleeper := newPhone(t, -8) // first syncs after the retirement
	stranger := newPhone(t, -8)
	for _, p := range []*Engine{b, sleeper} {
		if err := p.PinPublicKey(oldPEM); err != nil {
			t.Fatal(err)
		}
	}
	stranger.PinPublicKey(newAuthority(t).pem)

	cases := []*Engine{newPhone(t, -8), newPhone(t, -8), newPhone(t, -8)}
	for i, a := range cases {
		at := day0.Add(time.Duration(8+3*i) * time.Hour)
		meet(t, a, b, at, 20*time.Minute, -60)
		meet(t, a, sleeper, at, 20*time.Minute, -60)
	}
	now := day0.Add(30 * time.Hour).Unix()
	syncB := func(stage string) {
		t.Helper()
		rep, err := b.Sync(ctx, rs.client, now)
		if err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		if rep.Matched != 1 || rep.Failed != 0 {
			t.Fatalf("%s: report %+v, want the new file matched", stage, rep)
		}
	}

	// Before: one key signs.
	rs.publish(t, cases[0].DiagnosisKeys(day0.Unix(), now), 0)
	rs.export(t, time.Hour)
	syncB("before the rotation")

	// Rotation: a new key with its own ID and version.
	k, err := rs.srv.AddSigningKey(ctx, server.AddSigningKeyRequest{KeyID: "452", KeyVersion: "v2", By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rs.publish(t, cases[1].DiagnosisKeys(day0.Unix(), now), 0)
	rs.export(t, time.Hour)
	if got := rs.srv.ExportPublicKeyPEM(); string(got) != string(oldPEM) {
		t.Error("public.pem changed during the overlap: phones installed now would miss the risk configuration")
	}
	syncB("during the overlap")
	b.mu.Lock()
	pins := len(b.state.Pins)
	b.mu.Unlock()
	if pins != 2 {
		t.Fatalf("%d keys pinned after the overlap's sync, want the old and the endorsed new one", pins)
	}
	// An app released during the overlap that pins only the new key
	// verifies the files and the risk configuration too.
	fresh := newPhone(t, -8)
	if err := fresh.PinPublicKey(k.PublicPEM); err != nil {
		t.Fatal(err)
	}
	if rep, err := fresh.Sync(ctx, rs.client, now); err != nil || rep.Failed != 1 {
		t.Fatalf("phone pinning only the new key during the overlap: %+v, %v; want only the file from before the rotation failed", rep, err)
	}
	lastFile := latestFile(t, rs)
	if len(lastFile.Signatures) != 2 || lastFile.Signatures[1].Info.KeyID != "452" || lastFile.Signatures[1].Info.KeyVersion != "v2" {
		t.Fatalf("file of the overlap signed by %+v, want vn/v1 and 452/v2", lastFile.Signatures)
	}

	// Retirement: the old key signs no more; the configuration changes
	// and is signed by the new key alone.
	rs.export(t, rs.srv.MinKeyOverlap())
	if got := rs.srv.ExportPublicKeyPEM(); string(got) != string(k.PublicPEM) {
		t.Fatal("public.pem is not the new key after the retirement")
	}
	c := risk.DefaultConfig()
	c.MinutesThreshold = 20
	if err := rs.srv.SetRiskConfig(ctx, c); err != nil {
		t.Fatal(err)
	}
	rs.publish(t, cases[2].DiagnosisKeys(day0.Unix(), now), 0)
	rs.export(t, time.Hour)
	lastFile = latestFile(t, rs)
	if len(lastFile.Signatures) != 1 || lastFile.Signatures[0].Info.KeyID != "452" {
		t.Fatalf("file after the retirement signed by %+v, want 452/v2 alone", lastFile.Signatures)
	}
	oldKey, _ := export.ParsePublicKeyPEM(oldPEM)
	if lastFile.Verify(oldKey) == nil {
		t.Fatal("the retired key still signs")
	}
	syncB("after the retirement")
	b.mu.Lock()
	threshold := b.state.Risk.MinutesThreshold
	b.mu.Unlock()
	if threshold != 20 {
		t.Errorf("risk configuration signed by the new key not applied (threshold %v)", threshold)
	}

	// The sleeper pinned the old key only and never saw the overlap: the
	// listing still carries the new key's endorsement by the old one.
	rep, err := sleeper.Sync(ctx, rs.client, now)
	if err != nil || rep.Failed != 0 || rep.Matched != 1 {
		t.Fatalf("sleeper: %+v, %v: want the one file still listed matched", rep, err)
	}
	if _, err := stranger.Sync(ctx, rs.client, now); err == nil {
		t.Error("a phone pinning an unrelated key accepted the risk configuration")
	}
	stranger.mu.Lock()
	n := len(stranger.state.Pins)
	stranger.mu.Unlock()
	if n != 1 {
		t.Errorf("the stranger pinned %d keys from an unsigned listing", n)
	}
}

// latestFile reads the newest file in index.txt.
func latestFile(t *testing.T, rs *realServer) *export.Archive {
	t.Helper()
	index, err := rs.client.get(context.Background(), api.PathExports+api.IndexName, maxIndexBytes)
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Fields(string(index))
	b, err := rs.client.get(context.Background(), api.PathExports+names[len(names)-1], maxExportBytes)
	if err != nil {
		t.Fatal(err)
	}
	a, err := export.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
