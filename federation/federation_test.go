package federation_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/federation"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/internal/reference"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// origin is a followed server: files by name, and the paths asked for.
type origin struct {
	mu    sync.Mutex
	files map[string][]byte
	index []string
	asked []string
	stall map[string]bool // answer these with headers, then nothing
}

func (o *origin) add(name string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.files[name] = data
	o.index = append(o.index, name)
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	name := strings.TrimPrefix(r.URL.Path, "/exports/")
	o.asked = append(o.asked, name)
	data, ok := o.files[name]
	if name == "index.txt" {
		data, ok = []byte(strings.Join(o.index, "\n")+"\n"), true
	}
	stall := o.stall[name]
	o.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if stall {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	w.Write(data)
}

func (o *origin) askedFor(name string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, a := range o.asked {
		if a == name {
			n++
		}
	}
	return n
}

func signed(t testing.TB, key *ecdsa.PrivateKey, f *export.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := export.Write(&buf, f, export.Signer{Key: key, Info: export.SignatureInfo{KeyID: "aa", KeyVersion: "v1"}}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func key(b byte, rt export.ReportType, dso int32, missing export.Fields) export.Key {
	k := export.Key{RollingStart: 2991744, RollingPeriod: 144, ReportType: rt, TransmissionRisk: 0, DaysSinceOnset: dso, Missing: missing}
	k.Data[0] = b
	return k
}

type fixture struct {
	db     *store.DB
	blobs  *blob.Dir
	ours   *ecdsa.PrivateKey
	theirs *ecdsa.PrivateKey
	origin *origin
	url    string
}

func newFixture(t testing.TB, url string) *fixture {
	t.Helper()
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{db: db, blobs: blobs, origin: &origin{files: map[string][]byte{}, stall: map[string]bool{}}}
	fx.ours, _ = export.GenerateKey()
	fx.theirs, _ = export.GenerateKey()
	hs := httptest.NewServer(fx.origin)
	t.Cleanup(hs.Close)
	fx.url = hs.URL + "/exports/index.txt"
	return fx
}

func (fx *fixture) federation(t testing.TB, cfg federation.Config) *federation.Federation {
	t.Helper()
	cfg.Region = "VN"
	if cfg.Peers == nil {
		cfg.Peers = []federation.Peer{{Region: "AA", IndexURL: fx.url, Key: &fx.theirs.PublicKey}}
	}
	cfg.Instance = "test"
	sign := func(_ context.Context, w io.Writer, f *export.File) error {
		return export.Write(w, f, export.Signer{Key: fx.ours, Info: export.SignatureInfo{KeyID: "vn", KeyVersion: "v1"}})
	}
	fed, err := federation.New(cfg, fx.db, fx.blobs, sign, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fed.SetClock(func() time.Time { return now })
	return fed
}

func eachBackend(t *testing.T, fn func(t *testing.T, url string)) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.URL) })
	}
}

// TestImportAndOffer: a followed server's good files are imported and
// offered to our phones signed with our key, every field as it came, and
// its files that are tampered with, signed by another key, of another
// region, too large or too slow are refused without holding back the
// files listed after them; files outside its region's folder (what it
// offers of others' keys) are never fetched; nothing is imported twice,
// also by a new Federation on the same database (a restart); refused
// files are tried MaxAttempts times in all.
func TestImportAndOffer(t *testing.T) {
	eachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		fx := newFixture(t, url)
		stranger, _ := export.GenerateKey()
		goodFile := &export.File{Start: now.Add(-2 * time.Hour), End: now.Add(-time.Hour), Region: "AA", BatchNum: 1, BatchSize: 2,
			Keys: []export.Key{
				key(1, export.ReportConfirmedTest, -2, 0),
				key(2, export.ReportUnknown, 0, export.FieldReportType|export.FieldDaysSinceOnset|export.FieldTransmissionRisk),
				key(3, export.ReportConfirmedClinical, 0, 0),
				key(4, export.ReportRecursive, 1, 0),
			},
			Revised: []export.Key{key(5, export.ReportRevoked, 0, export.FieldDaysSinceOnset)},
		}
		good := signed(t, fx.theirs, goodFile)
		fx.origin.add("AA/1-2.zip", good)
		a, _ := export.Read(good)
		bin := bytes.Clone(a.Bin)
		bin[len(bin)-1] ^= 1 // the last key's days since onset
		fx.origin.add("AA/2-3.zip", rezip(t, bin, good))
		fx.origin.add("AA/3-4.zip", signed(t, stranger, goodFile))
		wrongRegion := *goodFile
		wrongRegion.Region = "VN"
		fx.origin.add("AA/4-5.zip", signed(t, fx.theirs, &wrongRegion))
		fx.origin.add("AA/5-6.zip", append(bytes.Clone(good), make([]byte, 1<<10)...)) // over the limit below
		fx.origin.add("AA/6-7.zip", good)
		fx.origin.stall["AA/6-7.zip"] = true
		fx.origin.add("BB/7-8.zip", signed(t, fx.theirs, goodFile))
		fx.origin.add("AA/../x.zip", good)
		later := *goodFile
		later.Keys = []export.Key{key(9, export.ReportConfirmedTest, 3, 0)}
		later.Revised = nil
		fx.origin.add("AA/8-9.zip", signed(t, fx.theirs, &later))

		limit := int64(len(good) + 512) // good files pass, AA/5-6.zip does not
		cfg := federation.Config{MaxFileBytes: limit, RequestTimeout: 500 * time.Millisecond}
		fed := fx.federation(t, cfg)
		res, err := fed.ImportOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := federation.ImportResult{Files: 2, Keys: 5, Refused: 5, RecursiveDropped: 1}
		if res != want {
			t.Errorf("first run = %+v, want %+v", res, want)
		}
		if n := fx.origin.askedFor("BB/7-8.zip"); n != 0 {
			t.Errorf("BB/7-8.zip asked for %d times: another region's folder must not be fetched", n)
		}
		files, _ := fx.db.FederationFiles(ctx, "AA")
		reasons := map[string]string{}
		for _, f := range files {
			reasons[f.Name] = f.State + " " + f.Error
		}
		for name, want := range map[string]string{
			"AA/1-2.zip": "imported", "AA/2-3.zip": "signature does not verify", "AA/3-4.zip": "signature does not verify",
			"AA/4-5.zip": `region "VN", want "AA"`, "AA/5-6.zip": "bytes", "AA/6-7.zip": "refused", "AA/8-9.zip": "imported",
		} {
			if !strings.Contains(reasons[name], want) {
				t.Errorf("%s: %q, want it to say %q", name, reasons[name], want)
			}
		}

		// Offered to our phones: our signature, their header and fields.
		names, err := fed.WriteExports(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, []string{"AA/1-2.zip", "AA/8-9.zip"}) {
			t.Fatalf("names for our index = %q", names)
		}
		data, err := fx.blobs.Get(ctx, "AA/1-2.zip")
		if err != nil {
			t.Fatal(err)
		}
		mirror, err := export.Read(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := mirror.Verify(&fx.ours.PublicKey); err != nil {
			t.Errorf("offered file does not verify with our key: %v", err)
		}
		if err := mirror.Verify(&fx.theirs.PublicKey); !errors.Is(err, export.ErrSignature) {
			t.Errorf("offered file verifies with their key: %v", err)
		}
		wantFile, _ := export.Read(good)
		wantFile.File.Keys = slices.DeleteFunc(wantFile.File.Keys, func(k export.Key) bool { return k.ReportType == export.ReportRecursive })
		wantFile.File.Signatures = []export.SignatureInfo{{KeyID: "vn", KeyVersion: "v1", Algorithm: export.AlgorithmECDSAP256SHA256}}
		if diff := cmp.Diff(wantFile.File, mirror.File); diff != "" {
			t.Errorf("offered file (-want, +got):\n%s", diff)
		}

		// A restart: nothing again; the refused files once more each.
		res, err = fx.federation(t, cfg).ImportOnce(ctx)
		if err != nil || res.Files != 0 || res.Refused != 5 {
			t.Errorf("second run = %+v, %v; want 0 files, 5 refused", res, err)
		}
		if n := fx.origin.askedFor("AA/1-2.zip"); n != 1 {
			t.Errorf("AA/1-2.zip fetched %d times, want once", n)
		}
		fed.ImportOnce(ctx) // third attempt
		if res, _ := fed.ImportOnce(ctx); res.Refused != 0 {
			t.Errorf("fourth run refused %d files: want them given up after 3 attempts", res.Refused)
		}
		if n := fx.origin.askedFor("AA/2-3.zip"); n != 3 {
			t.Errorf("AA/2-3.zip fetched %d times, want 3", n)
		}
		if again, err := fed.WriteExports(ctx, now); err != nil || !slices.Equal(again, names) {
			t.Errorf("names after reruns = %q, %v", again, err)
		}
	})
}

// rezip replaces the export.bin of the zip orig with bin, keeping its
// export.sig: a file tampered with after signing.
func rezip(t *testing.T, bin, orig []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(orig), int64(len(orig)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, zf := range zr.File {
		data := bin
		if zf.Name != export.BinName {
			rc, _ := zf.Open()
			data, _ = io.ReadAll(rc)
			rc.Close()
		}
		w, _ := zw.Create(zf.Name)
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestFileSizeBoundary: a file of exactly MaxFileBytes is imported, one
// byte more is refused.
func TestFileSizeBoundary(t *testing.T) {
	fx := newFixture(t, filepath.Join(t.TempDir(), "db"))
	f := &export.File{Start: now.Add(-time.Hour), End: now, Region: "AA", BatchNum: 1, BatchSize: 1, Keys: []export.Key{key(1, export.ReportConfirmedTest, 0, 0)}}
	data := signed(t, fx.theirs, f)
	fx.origin.add("AA/1.zip", data)
	for _, tt := range []struct {
		limit   int64
		refused int
	}{{int64(len(data)) - 1, 1}, {int64(len(data)), 0}, {int64(len(data)) + 1, 0}} {
		res, err := fx.federation(t, federation.Config{MaxFileBytes: tt.limit}).ImportOnce(context.Background())
		if err != nil || res.Refused != tt.refused {
			t.Errorf("limit %d for %d bytes: %+v, %v; want %d refused", tt.limit, len(data), res, err, tt.refused)
		}
	}
	files, _ := fx.db.FederationFiles(context.Background(), "AA")
	if len(files) != 1 || files[0].State != store.FederationImported {
		t.Errorf("files = %+v", files)
	}
}

// TestUnreachablePeerRefusesNothing: a server that is down costs its files
// no attempts.
func TestUnreachablePeerRefusesNothing(t *testing.T) {
	fx := newFixture(t, filepath.Join(t.TempDir(), "db"))
	fed := fx.federation(t, federation.Config{Peers: []federation.Peer{{Region: "AA", IndexURL: "http://127.0.0.1:1/index.txt", Key: &fx.theirs.PublicKey}}})
	res, err := fed.ImportOnce(context.Background())
	if err == nil || res.Refused != 0 {
		t.Errorf("ImportOnce = %+v, %v; want an error and nothing refused", res, err)
	}
}

// TestGoogleSampleKeepsFields: the published Google sample (no report types,
// no days since onset) comes out of import and re-signing with those
// fields still missing.
func TestGoogleSampleKeepsFields(t *testing.T) {
	fx := newFixture(t, filepath.Join(t.TempDir(), "db"))
	sample := reference.Read(t, "gaen-testExport-2-records.zip")
	a, err := export.Read(sample)
	if err != nil {
		t.Fatal(err)
	}
	a.File.Region = "AA"
	fx.origin.add("AA/sample.zip", signed(t, fx.theirs, a.File))
	fed := fx.federation(t, federation.Config{})
	// Imported when its keys were young: a day after the last one ended.
	var last time.Time
	for _, k := range a.File.Keys {
		if end := protocol.IntervalTime(k.RollingStart + k.RollingPeriod); end.After(last) {
			last = end
		}
	}
	then := last.Add(24 * time.Hour)
	fed.SetClock(func() time.Time { return then })
	ctx := context.Background()
	if res, err := fed.ImportOnce(ctx); err != nil || res.Files != 1 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	if _, err := fed.WriteExports(ctx, then); err != nil {
		t.Fatal(err)
	}
	data, _ := fx.blobs.Get(ctx, "AA/sample.zip")
	got, err := export.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a.File.Keys, got.File.Keys); diff != "" {
		t.Errorf("keys (-sample, +offered):\n%s", diff)
	}
	for _, k := range got.File.Keys {
		if k.Missing != export.FieldReportType|export.FieldDaysSinceOnset {
			t.Errorf("key %s: missing %q, want report_type+days_since_onset", k.Hex(), k.Missing)
		}
	}
}

// TestRetention: imported keys and our files offering them go after the
// retention period; the origin's file is not imported again.
func TestRetention(t *testing.T) {
	fx := newFixture(t, filepath.Join(t.TempDir(), "db"))
	ctx := context.Background()
	f := &export.File{Start: now.Add(-time.Hour), End: now, Region: "AA", BatchNum: 1, BatchSize: 1, Keys: []export.Key{key(1, export.ReportConfirmedTest, 0, 0)}}
	fx.origin.add("AA/1.zip", signed(t, fx.theirs, f))
	fed := fx.federation(t, federation.Config{})
	fed.ImportOnce(ctx)
	if names, err := fed.WriteExports(ctx, now); err != nil || len(names) != 1 {
		t.Fatalf("names = %q, %v", names, err)
	}
	for _, tt := range []struct {
		at    time.Time
		names int
	}{{now.Add(14 * 24 * time.Hour), 1}, {now.Add(14*24*time.Hour + time.Second), 0}} {
		names, err := fed.WriteExports(ctx, tt.at)
		if err != nil || len(names) != tt.names {
			t.Errorf("at %v: names = %q, %v; want %d", tt.at, names, err, tt.names)
		}
	}
	if _, err := fx.blobs.Get(ctx, "AA/1.zip"); err == nil {
		t.Error("our file offering expired keys is still there")
	}
	fed.SetClock(func() time.Time { return now.Add(15 * 24 * time.Hour) })
	if res, _ := fed.ImportOnce(ctx); res.Files != 0 {
		t.Errorf("imported again after retention: %+v", res)
	}
}

// TestConfig: follows that could loop or clash are refused.
func TestConfig(t *testing.T) {
	k, _ := export.GenerateKey()
	pub := &k.PublicKey
	pem, _ := export.MarshalPublicKeyPEM(pub)
	pemPath := filepath.Join(t.TempDir(), "aa.pem")
	os.WriteFile(pemPath, pem, 0o600)
	for _, tt := range []struct {
		peers []federation.Peer
		want  string
	}{
		{[]federation.Peer{{Region: "AA", IndexURL: "https://aa.example/exports/index.txt", Key: pub}}, ""},
		{[]federation.Peer{{Region: "VN", IndexURL: "https://aa.example/index.txt", Key: pub}}, "our own region"},
		{[]federation.Peer{{Region: "AA", IndexURL: "https://a/index.txt", Key: pub}, {Region: "AA", IndexURL: "https://b/index.txt", Key: pub}}, "twice"},
		{[]federation.Peer{{Region: "AAA", IndexURL: "https://a/index.txt", Key: pub}}, "two letters"},
		{[]federation.Peer{{Region: "AA", IndexURL: "file:///etc/passwd", Key: pub}}, "index URL"},
		{[]federation.Peer{{Region: "AA", IndexURL: "https://a/index.txt"}}, "no public key"},
	} {
		err := federation.Config{Region: "VN", Peers: tt.peers}.Validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: %v, want %q", tt.peers, err, tt.want)
		}
	}
	p, err := federation.ParsePeer("aa, https://aa.example/a,b/index.txt ," + pemPath)
	if err != nil || p.Region != "AA" || p.IndexURL != "https://aa.example/a,b/index.txt" || !p.Key.Equal(pub) {
		t.Errorf("ParsePeer = %+v, %v", p, err)
	}
	for _, bad := range []string{"AA", "AA,https://a/index.txt", "AA,https://a/index.txt," + pemPath + ".missing"} {
		if _, err := federation.ParsePeer(bad); err == nil {
			t.Errorf("ParsePeer(%q): want an error", bad)
		}
	}
}

// TestRefusalReasonIsBounded: a refused file's reason quotes it (here its
// region); what is stored stays within 1 KiB however long that is.
// Cut in the middle of a character, it is still valid UTF-8, which
// PostgreSQL requires.
func TestRefusalReasonIsBounded(t *testing.T) {
	eachBackend(t, func(t *testing.T, url string) {
		fx := newFixture(t, url)
		for i := range 3 { // one of them is cut inside a 3-byte "ệ"
			f := &export.File{Start: now.Add(-time.Hour), End: now, Region: strings.Repeat("X", i) + strings.Repeat("ệ", 2000), BatchNum: 1, BatchSize: 1}
			fx.origin.add(fmt.Sprintf("AA/%d.zip", i), signed(t, fx.theirs, f))
		}
		ctx := context.Background()
		if res, err := fx.federation(t, federation.Config{}).ImportOnce(ctx); err != nil || res.Refused != 3 {
			t.Fatalf("%+v, %v", res, err)
		}
		files, _ := fx.db.FederationFiles(ctx, "AA")
		for _, f := range files {
			if len(f.Error) > 1024 || len(f.Error) < 1000 || !strings.Contains(f.Error, "region") {
				t.Errorf("stored reason of %d bytes: %.80q…", len(f.Error), f.Error)
			}
		}
		if len(files) != 3 {
			t.Errorf("%d files recorded, want 3", len(files))
		}
	})
}

// TestRefusalReasonQuotingBytes: a zip whose entry name holds a NUL and
// invalid UTF-8, quoted in the reader's error, is refused and recorded on
// both backends, and does not stop the file after it.
func TestRefusalReasonQuotingBytes(t *testing.T) {
	eachBackend(t, func(t *testing.T, url string) {
		fx := newFixture(t, url)
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "a\x00\xff.bin", Method: zip.Store, CompressedSize64: 3, UncompressedSize64: 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("abc"))
		zw.Close()
		fx.origin.add("AA/1.zip", buf.Bytes())
		good := &export.File{Start: now.Add(-time.Hour), End: now, Region: "AA", BatchNum: 1, BatchSize: 1, Keys: []export.Key{key(1, export.ReportConfirmedTest, 0, 0)}}
		fx.origin.add("AA/2.zip", signed(t, fx.theirs, good))
		res, err := fx.federation(t, federation.Config{}).ImportOnce(context.Background())
		if err != nil || res.Refused != 1 || res.Files != 1 {
			t.Fatalf("%+v, %v; want 1 refused, 1 imported", res, err)
		}
	})
}

// TestStallingPeerDoesNotHoldTheRun: a followed server whose files all
// stall (headers, then nothing until the request's time-out) gets at most
// a lease's time of a run, not MaxFilesPerRun time-outs (200 × 2 min,
// hours, while the lease of 10 minutes lapsed and the servers after it
// waited); the server after it is imported in the same run.
func TestStallingPeerDoesNotHoldTheRun(t *testing.T) {
	fx := newFixture(t, filepath.Join(t.TempDir(), "db"))
	for i := range 30 {
		name := fmt.Sprintf("AA/%d.zip", i)
		fx.origin.add(name, []byte("x"))
		fx.origin.stall[name] = true
	}
	bb := &origin{files: map[string][]byte{}, stall: map[string]bool{}}
	bbKey, _ := export.GenerateKey()
	bb.add("BB/1.zip", signed(t, bbKey, &export.File{Start: now.Add(-time.Hour), End: now, Region: "BB", BatchNum: 1, BatchSize: 1,
		Keys: []export.Key{key(1, export.ReportConfirmedTest, 0, 0)}}))
	hs := httptest.NewServer(bb)
	t.Cleanup(hs.Close)
	fed := fx.federation(t, federation.Config{RequestTimeout: 20 * time.Millisecond, Peers: []federation.Peer{
		{Region: "AA", IndexURL: fx.url, Key: &fx.theirs.PublicKey},
		{Region: "BB", IndexURL: hs.URL + "/exports/index.txt", Key: &bbKey.PublicKey},
	}})
	var mu sync.Mutex
	clock := now
	fed.SetClock(func() time.Time { // every look at the clock takes a minute
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Minute)
		return clock
	})
	res, err := fed.ImportOnce(context.Background())
	if err != nil || res.Files != 1 {
		t.Errorf("ImportOnce = %+v, %v; want BB's file imported", res, err)
	}
	asked := 0
	for i := range 30 {
		asked += fx.origin.askedFor(fmt.Sprintf("AA/%d.zip", i))
	}
	if asked >= 10 {
		t.Errorf("%d stalling files fetched in one run of simulated minutes: want the peer stopped after a lease's time", asked)
	}
}

// TestKeysOutsideRetentionAreDropped: a followed server's keys that are
// older than our retention, or start in the future, are not imported:
// signed with our key, they would go to our phones as ours never do.
func TestKeysOutsideRetentionAreDropped(t *testing.T) {
	fx := newFixture(t, filepath.Join(t.TempDir(), "db"))
	at := func(b byte, start uint32) export.Key {
		k := key(b, export.ReportConfirmedTest, 0, 0)
		k.RollingStart = start
		return k
	}
	today := protocol.IntervalNumber(now) / 144 * 144
	f := &export.File{Start: now.Add(-time.Hour), End: now, Region: "AA", BatchNum: 1, BatchSize: 1, Keys: []export.Key{
		at(1, today-144),    // yesterday's: ended 10 h ago
		at(2, today-20*144), // 20 days old
		at(3, today-14*144), // ended 13 days and 10 h ago: within the retention
		at(4, today+144),    // tomorrow's
	}, Revised: []export.Key{at(5, today-20*144), at(6, protocol.IntervalNumber(now)+1)}}
	fx.origin.add("AA/1.zip", signed(t, fx.theirs, f))
	fed := fx.federation(t, federation.Config{})
	ctx := context.Background()
	if res, err := fed.ImportOnce(ctx); err != nil || res.Files != 1 || res.Keys != 2 || res.UntimelyDropped != 4 {
		t.Fatalf("ImportOnce = %+v, %v; want 1 file of 2 keys, 4 dropped", res, err)
	}
	if _, err := fed.WriteExports(ctx, now); err != nil {
		t.Fatal(err)
	}
	data, _ := fx.blobs.Get(ctx, "AA/1.zip")
	got, err := export.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.File.Keys) != 2 || len(got.File.Revised) != 0 {
		t.Errorf("offered keys %v, revised %v; want keys 1 and 3 only", got.File.Keys, got.File.Revised)
	}
	for _, k := range got.File.Keys {
		if k.Data[0] != 1 && k.Data[0] != 3 {
			t.Errorf("offered key %d", k.Data[0])
		}
	}
}
