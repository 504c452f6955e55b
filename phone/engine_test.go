package phone

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
)

var day0 = time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)

func storageKey(b byte) []byte { return bytes.Repeat([]byte{b}, StorageKeyLength) }

func newPhone(t testing.TB, tx int) *Engine {
	t.Helper()
	e, err := Open(t.TempDir(), storageKey(1), Config{TxPower: tx, Model: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// authority signs export files and is pinned by phones.
type authority struct {
	key *ecdsa.PrivateKey
	pem []byte
}

func newAuthority(t testing.TB) *authority {
	k, err := export.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := export.MarshalPublicKeyPEM(&k.PublicKey)
	return &authority{key: k, pem: p}
}

func (a *authority) export(t testing.TB, keys []export.Key, revised []export.Key) []byte {
	t.Helper()
	var buf bytes.Buffer
	f := &export.File{Start: day0, End: day0.Add(time.Hour), Region: "VN", BatchNum: 1, BatchSize: 1, Keys: keys, Revised: revised}
	if err := export.Write(&buf, f, export.Signer{Key: a.key, Info: export.SignatureInfo{KeyID: "vn", KeyVersion: "v1"}}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// meet makes b hear a every scan period for the duration, at an RSSI.
func meet(t testing.TB, a, b *Engine, start time.Time, d time.Duration, rssi int) {
	t.Helper()
	for at := start; at.Before(start.Add(d)); at = at.Add(2 * time.Minute) {
		adv, err := a.Advertisement(at.Unix())
		if err != nil {
			t.Fatal(err)
		}
		if err := b.HandleScan(adv.Payload, rssi, at.Unix(), ""); err != nil {
			t.Fatal(err)
		}
	}
}

func published(keys []PublishableKey, rt export.ReportType) []export.Key {
	var out []export.Key
	for _, k := range keys {
		out = append(out, export.Key{Data: k.TEK, RollingStart: k.RollingStart, RollingPeriod: k.RollingPeriod, ReportType: rt})
	}
	return out
}

func TestCloseContactWarnsF1(t *testing.T) {
	auth := newAuthority(t)
	tests := []struct {
		name      string
		duration  time.Duration
		rssi      int
		wantLevel int
	}{
		// Attenuation = TX -8 - (RSSI + 3), Google's fleet-wide correction.
		{"close for 20 minutes", 20 * time.Minute, -65, LevelF1},                  // 54 dB: Immediate
		{"a single brief sighting", 1 * time.Minute, -55, LevelNone},              // one scan, 5 minutes at most
		{"far away for an hour", time.Hour, -90, LevelNone},                       // 79 dB: Other
		{"2 m for 40 minutes counts half", 40 * time.Minute, -68, LevelF1},        // 57 dB: Near, 20 weighted min
		{"2 m for 20 minutes counts half", 20 * time.Minute, -68, LevelNone},      // 10 weighted min
		{"3-4 m for 80 minutes counts a quarter", 80 * time.Minute, -75, LevelF1}, // 64 dB: Medium, 20 weighted min
		{"3-4 m for 40 minutes", 40 * time.Minute, -75, LevelNone},
	}
	for _, tt := range tests {
		for _, shared := range []*Shared{nil, NewShared()} {
			t.Run(fmt.Sprintf("%s/shared=%v", tt.name, shared != nil), func(t *testing.T) {
				a, b := newPhone(t, -8), newPhone(t, -8)
				if err := b.PinPublicKey(auth.pem); err != nil {
					t.Fatal(err)
				}
				start := day0.Add(9 * time.Hour)
				meet(t, a, b, start, tt.duration, tt.rssi)
				now := start.Add(24 * time.Hour).Unix()
				zip := auth.export(t, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)
				rep := matchWith(t, b, [][]byte{zip}, now, shared)
				if rep.Matched != 1 {
					t.Errorf("matched %d keys, want 1 (%+v)", rep.Matched, rep)
				}
				w := b.Warning(now)
				if w.Level != tt.wantLevel {
					t.Fatalf("warning %+v, want level %d", w, tt.wantLevel)
				}
				if w.Level == LevelF1 && (w.Day != "2026-11-10" || w.Advice != AdviceF1) {
					t.Errorf("warning %+v", w)
				}
			})
		}
	}
}

// matchWith is MatchExports, sharing work through shared when it is set.
func matchWith(t testing.TB, e *Engine, files [][]byte, now int64, shared *Shared) *MatchReport {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	rep, err := e.matchLocked(files, now, shared)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestSharedVerificationKeepsPins: a file another engine verified through
// Shared is still refused by an engine that does not pin its signer.
func TestSharedVerificationKeepsPins(t *testing.T) {
	auth, other := newAuthority(t), newAuthority(t)
	a, b, c := newPhone(t, -8), newPhone(t, -8), newPhone(t, -8)
	b.PinPublicKey(auth.pem)
	c.PinPublicKey(other.pem)
	start := day0.Add(9 * time.Hour)
	meet(t, a, b, start, 20*time.Minute, -60)
	meet(t, a, c, start, 20*time.Minute, -60)
	now := start.Add(24 * time.Hour).Unix()
	zip := auth.export(t, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)
	shared := NewShared()
	if rep := matchWith(t, b, [][]byte{zip}, now, shared); rep.Matched != 1 {
		t.Fatalf("pinned engine: %+v", rep)
	}
	c.mu.Lock()
	_, err := c.matchLocked([][]byte{zip}, now, shared)
	c.mu.Unlock()
	if !errors.Is(err, ErrUnverified) {
		t.Fatalf("engine pinning another key: err = %v, want ErrUnverified", err)
	}
}

func TestRecursiveWarnsF2AndRevocationWithdraws(t *testing.T) {
	auth := newAuthority(t)
	a, b := newPhone(t, -8), newPhone(t, -8)
	b.PinPublicKey(auth.pem)
	start := day0.Add(9 * time.Hour)
	meet(t, a, b, start, 30*time.Minute, -65)
	now := start.Add(time.Hour).Unix()
	keys := published(a.DiagnosisKeys(day0.Unix(), now), export.ReportRecursive)
	if _, err := b.MatchExports([][]byte{auth.export(t, keys, nil)}, now); err != nil {
		t.Fatal(err)
	}
	if w := b.Warning(now); w.Level != LevelF2 || w.Advice != AdviceF2 {
		t.Fatalf("warning %+v, want F2", w)
	}
	revoked := keys[0]
	revoked.ReportType = export.ReportRevoked
	rep, err := b.MatchExports([][]byte{auth.export(t, nil, []export.Key{revoked})}, now)
	if err != nil || rep.Revoked != 1 {
		t.Fatalf("revocation: %+v, %v", rep, err)
	}
	if w := b.Warning(now); w.Level != LevelNone {
		t.Fatalf("after revocation: %+v", w)
	}
}

// TestReplayOutsideToleranceNeverMatches replays a phone's identifiers
// 2 h + 1 interval after their interval ended: no match, whatever the signal.
func TestReplayOutsideToleranceNeverMatches(t *testing.T) {
	auth := newAuthority(t)
	tests := []struct {
		name  string
		delay time.Duration // from the end of the identifier's interval
		match bool
	}{
		{"live", -5 * time.Minute, true},
		{"2 h late", 2*time.Hour - time.Second, true},
		{"2 h + 1 interval late", 2*time.Hour + protocol.IntervalLength, false},
		{"2 h + 1 interval early", -(2*time.Hour + 2*protocol.IntervalLength), false},
		{"a day late", 24 * time.Hour, false},
	}
	for _, tt := range tests {
		for _, shared := range []*Shared{nil, NewShared()} {
			t.Run(fmt.Sprintf("%s/shared=%v", tt.name, shared != nil), func(t *testing.T) {
				a, b := newPhone(t, -8), newPhone(t, -8)
				b.PinPublicKey(auth.pem)
				sent := day0.Add(9 * time.Hour)
				adv, err := a.Advertisement(sent.Unix())
				if err != nil {
					t.Fatal(err)
				}
				intervalEnd := protocol.IntervalTime(protocol.IntervalNumber(sent) + 1)
				heard := intervalEnd.Add(tt.delay)
				// The attacker replays it for an hour, once per scan.
				for i := 0; i < 30; i++ {
					at := heard.Add(time.Duration(i) * 2 * time.Minute)
					if tt.delay < 0 {
						at = heard.Add(-time.Duration(i) * 2 * time.Minute)
					}
					if err := b.HandleScan(adv.Payload, -50, at.Unix(), ""); err != nil {
						t.Fatal(err)
					}
				}
				now := sent.Add(26 * time.Hour).Unix()
				rep := matchWith(t, b, [][]byte{auth.export(t, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)}, now, shared)
				if got := rep.Matched == 1; got != tt.match {
					t.Fatalf("matched = %v, want %v (%+v)", got, tt.match, rep)
				}
			})
		}
	}
}

func TestUnverifiedExportIsRejected(t *testing.T) {
	auth, mallory := newAuthority(t), newAuthority(t)
	b := newPhone(t, -8)
	if _, err := b.MatchExports(nil, day0.Unix()); !errors.Is(err, ErrNoPinnedKey) {
		t.Fatalf("no pins: %v", err)
	}
	b.PinPublicKey(auth.pem)
	if _, err := b.MatchExports([][]byte{mallory.export(t, nil, nil)}, day0.Unix()); !errors.Is(err, ErrUnverified) {
		t.Fatalf("forged file: %v", err)
	}
	if _, err := b.MatchExports([][]byte{[]byte("junk")}, day0.Unix()); !errors.Is(err, export.ErrFormat) {
		t.Fatalf("junk: %v", err)
	}
	if err := b.PinPublicKey([]byte("not a key")); err == nil {
		t.Fatal("pinning junk: want error")
	}
}

func TestUnknownMetadataVersionIsIgnored(t *testing.T) {
	auth := newAuthority(t)
	b := newPhone(t, -8)
	b.PinPublicKey(auth.pem)
	tek, _ := protocol.ParseTEK("75c734c6dd1a782de7a965da5eb93125")
	ids := protocol.NewIdentifiers(tek)
	start := day0.Add(9 * time.Hour)
	for at := start; at.Before(start.Add(30 * time.Minute)); at = at.Add(2 * time.Minute) {
		n := protocol.IntervalNumber(at)
		rpi := ids.RPI(n)
		p := protocol.Payload{RPI: rpi, AEM: ids.EncryptMetadata(rpi, protocol.Metadata{Version: 0xC0, TxPower: -8})}
		if err := b.HandleScan(p.Advertisement(), -60, at.Unix(), ""); err != nil {
			t.Fatal(err)
		}
	}
	now := start.Add(time.Hour).Unix()
	k := export.Key{Data: tek, RollingStart: protocol.RollingStart(protocol.IntervalNumber(start)), RollingPeriod: 144, ReportType: export.ReportConfirmedTest}
	rep, err := b.MatchExports([][]byte{auth.export(t, []export.Key{k}, nil)}, now)
	if err != nil || rep.Matched != 0 || b.Warning(now).Level != LevelNone {
		t.Fatalf("unknown version counted: %+v, %v", rep, err)
	}
}

func TestPersistenceAndEncryption(t *testing.T) {
	auth := newAuthority(t)
	dir := t.TempDir()
	a := newPhone(t, -8)
	b, err := Open(dir, storageKey(2), Config{TxPower: -8})
	if err != nil {
		t.Fatal(err)
	}
	b.PinPublicKey(auth.pem)
	start := day0.Add(9 * time.Hour)
	meet(t, a, b, start, 20*time.Minute, -65)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Nothing readable on disk: the RPI bytes heard must not appear in clear.
	adv, _ := a.Advertisement(start.Unix())
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if d != nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			if bytes.Contains(data, adv.Payload[11:27]) {
				t.Errorf("%s holds an identifier in clear", p)
			}
		}
		return nil
	})
	if _, err := Open(dir, storageKey(3), Config{}); err == nil {
		t.Fatal("opening with the wrong storage key: want error")
	}
	b2, err := Open(dir, storageKey(2), Config{TxPower: -8})
	if err != nil {
		t.Fatal(err)
	}
	now := start.Add(time.Hour).Unix()
	rep, err := b2.MatchExports([][]byte{auth.export(t, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)}, now)
	if err != nil || rep.Matched != 1 || b2.Warning(now).Level != LevelF1 {
		t.Fatalf("after reopen: %+v, %v, %+v", rep, err, b2.Warning(now))
	}
	b2.Close()
	b3, _ := Open(dir, storageKey(2), Config{TxPower: -8})
	if w := b3.Warning(now); w.Level != LevelF1 {
		t.Fatalf("warning not kept across restarts: %+v", w)
	}
}

func TestTornLogTailIsDropped(t *testing.T) {
	dir := t.TempDir()
	b, _ := Open(dir, storageKey(2), Config{})
	a := newPhone(t, -8)
	start := day0.Add(9 * time.Hour)
	meet(t, a, b, start, 10*time.Minute, -60)
	b.Close()
	logFile := filepath.Join(dir, "sightings", dayFileName(start.Unix()/secondsPerDay))
	fh, _ := os.OpenFile(logFile, os.O_APPEND|os.O_WRONLY, 0)
	fh.Write([]byte{200, 0, 0, 0, 1, 2, 3}) // a crash mid-frame
	fh.Close()
	b, _ = Open(dir, storageKey(2), Config{})
	st, err := b.Status(start.Add(time.Hour).Unix())
	if err != nil || st.Sightings != 5 || st.DamagedBytes != 7 {
		t.Fatalf("status %+v, %v; want 5 sightings and the 7 torn bytes reported", st, err)
	}
	meet(t, a, b, start.Add(20*time.Minute), 10*time.Minute, -60)
	b.Flush()
	st, err = b.Status(start.Add(time.Hour).Unix())
	if err != nil || st.Sightings != 10 || st.DamagedBytes != 7 {
		t.Fatalf("after appending past a torn tail: %+v, %v; want 10, the 7 cut bytes still reported", st, err)
	}
}

func TestKeySchedule(t *testing.T) {
	e := newPhone(t, -8)
	t1 := day0.Add(9*time.Hour + 3*time.Minute)
	adv1, err := e.Advertisement(t1.Unix())
	if err != nil {
		t.Fatal(err)
	}
	rot := time.Unix(adv1.RotateAt, 0)
	boundary := protocol.IntervalTime(protocol.IntervalNumber(t1) + 1)
	if rot.Before(boundary) || !rot.Before(boundary.Add(maxRotationJitter)) {
		t.Fatalf("rotate at %v, want within jitter after %v", rot, boundary)
	}
	if adv2, _ := e.Advertisement(t1.Add(time.Minute).Unix()); !bytes.Equal(adv1.Payload, adv2.Payload) {
		t.Fatal("identifier changed before its rotation time")
	}
	if adv3, _ := e.Advertisement(rot.Unix()); bytes.Equal(adv1.Payload, adv3.Payload) {
		t.Fatal("identifier did not change at its rotation time")
	}
	// A new key every UTC day; keys past the retention are forgotten.
	for d := 1; d <= 20; d++ {
		if _, err := e.Advertisement(day0.Add(time.Duration(d)*24*time.Hour + time.Hour).Unix()); err != nil {
			t.Fatal(err)
		}
	}
	now := day0.Add(20*24*time.Hour + time.Hour).Unix()
	keys := e.DiagnosisKeys(0, now)
	if len(keys) != RetentionDays+1 {
		t.Fatalf("%d keys kept, want %d", len(keys), RetentionDays+1)
	}
	// On demand: the current key is closed and a new one starts.
	if err := e.RotateKeyNow(now); err != nil {
		t.Fatal(err)
	}
	keys = e.DiagnosisKeys(now-3600, now+600)
	if len(keys) != 2 || keys[0].RollingStart+keys[0].RollingPeriod != keys[1].RollingStart || keys[0].TEK == keys[1].TEK {
		t.Fatalf("after rotation: %+v", keys)
	}
}

func TestBadScansAreRejected(t *testing.T) {
	e := newPhone(t, -8)
	for _, tt := range []struct {
		payload []byte
		rssi    int
	}{{nil, -60}, {[]byte{1, 2, 3}, -60}, {make([]byte, 31), 500}} {
		if err := e.HandleScan(tt.payload, tt.rssi, day0.Unix(), ""); !errors.Is(err, ErrBadScan) {
			t.Errorf("HandleScan(%x, %d): %v", tt.payload, tt.rssi, err)
		}
	}
	if _, err := Open(t.TempDir(), []byte("short"), Config{}); !errors.Is(err, ErrStorageKey) {
		t.Errorf("short storage key: %v", err)
	}
}

func TestHistory(t *testing.T) {
	a, c, b := newPhone(t, -8), newPhone(t, -8), newPhone(t, -8)
	start := day0.Add(9 * time.Hour)
	meet(t, a, b, start, 20*time.Minute, -65)
	meet(t, c, b, start, 20*time.Minute, -66)
	h, err := b.History(start.Add(time.Hour).Unix())
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Day != "2026-11-10" || h[0].CloseDevices != 2 || h[0].CloseMinutes != 40 {
		t.Fatalf("history %+v", h)
	}
}

// TestLogIsCompact: a crowded hour (40 devices in range, every scan) costs
// about 10 bytes per scan heard on disk, sealed.
func TestLogIsCompact(t *testing.T) {
	b := newPhone(t, -8)
	start := day0.Add(9 * time.Hour)
	for i := 0; i < 40; i++ {
		meet(t, newPhone(t, -8), b, start, time.Hour, -70)
	}
	st, err := b.Status(start.Add(2 * time.Hour).Unix())
	if err != nil {
		t.Fatal(err)
	}
	if st.Sightings != 40*30 {
		t.Fatalf("%d sightings, want %d", st.Sightings, 40*30)
	}
	perScan := float64(st.StoredBytes) / float64(st.Sightings)
	if perScan > 12 {
		t.Fatalf("%.1f stored bytes per scan heard (%d identifiers), want at most 12", perScan, st.Identifiers)
	}
	t.Logf("%.1f bytes per scan heard, %d identifiers, %d bytes", perScan, st.Identifiers, st.StoredBytes)
}

// TestSignedRiskConfig: the authority's signed configuration changes the
// threshold; one signed by anyone else is refused and changes nothing.
func TestSignedRiskConfig(t *testing.T) {
	auth, mallory := newAuthority(t), newAuthority(t)
	a, b := newPhone(t, -8), newPhone(t, -8)
	b.PinPublicKey(auth.pem)
	start := day0.Add(9 * time.Hour)
	meet(t, a, b, start, 20*time.Minute, -65) // 20 weighted minutes
	c := risk.DefaultConfig()
	c.MinutesThreshold = 25
	data, sig, _ := risk.SignConfig(c, mallory.key)
	if err := b.SetRiskConfig(data, sig); !errors.Is(err, risk.ErrConfigSignature) {
		t.Fatalf("config signed by another key: %v", err)
	}
	data, sig, _ = risk.SignConfig(c, auth.key)
	if err := b.SetRiskConfig(data, sig); err != nil {
		t.Fatal(err)
	}
	now := start.Add(time.Hour).Unix()
	b.MatchExports([][]byte{auth.export(t, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)}, now)
	if w := b.Warning(now); w.Level != LevelNone {
		t.Fatalf("20 minutes warned with a 25-minute threshold: %+v", w)
	}
	// A newer configuration replaces it: the same exposure now warns.
	c.MinutesThreshold = 15
	data, sig, _ = risk.SignConfig(c, auth.key)
	b.SetRiskConfig(data, sig)
	if w := b.Warning(now); w.Level != LevelF1 {
		t.Fatalf("with the threshold back at 15: %+v", w)
	}
}

// TestCheckpointWritesOnlyWhatIsNoLongerHeard: an identifier not heard for
// five minutes is written at a checkpoint; one still being heard stays in
// memory, so that its record is not split.
func TestCheckpointWritesOnlyWhatIsNoLongerHeard(t *testing.T) {
	tests := []struct {
		name      string
		lastHeard time.Duration // after 09:00
		written   bool
	}{
		{"gone for 12 minutes", 8 * time.Minute, true},
		{"heard 30 s ago", 19*time.Minute + 30*time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewMemoryStorage()
			rx, err := OpenStorage(st, storageKey(3), Config{})
			if err != nil {
				t.Fatal(err)
			}
			adv, err := newPhone(t, -8).Advertisement(day0.Add(9 * time.Hour).Unix())
			if err != nil {
				t.Fatal(err)
			}
			for at := time.Duration(0); at <= tt.lastHeard; at += 30 * time.Second {
				if err := rx.HandleScan(adv.Payload, -60, day0.Add(9*time.Hour+at).Unix(), ""); err != nil {
					t.Fatal(err)
				}
			}
			if err := rx.Checkpoint(day0.Add(9*time.Hour + 20*time.Minute).Unix()); err != nil {
				t.Fatal(err)
			}
			if n, _ := st.LogBytes(); (n > 0) != tt.written {
				t.Fatalf("log holds %d bytes after the checkpoint; want written = %v", n, tt.written)
			}
			if err := rx.Flush(); err != nil {
				t.Fatal(err)
			}
			if s, err := rx.Status(day0.Add(10 * time.Hour).Unix()); err != nil || s.Identifiers != 1 {
				t.Fatalf("status %+v, %v: want the identifier in one record", s, err)
			}
		})
	}
}
