package phone

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
)

// TestMatchReportCounts: MatchReport counts every key of a file, revised
// ones included, and the keys whose identifiers had to be derived (only
// keys of days this phone heard anything on).
func TestMatchReportCounts(t *testing.T) {
	auth := newAuthority(t)
	a, b := newPhone(t, -8), newPhone(t, -8)
	b.PinPublicKey(auth.pem)
	meet(t, a, b, day0.Add(9*time.Hour), 20*time.Minute, -60)
	now := day0.Add(24 * time.Hour).Unix()
	keys := published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest) // day0's and day1's
	var silent export.Key                                                            // a key of a day b heard nothing on
	rand.Read(silent.Data[:])
	silent.RollingStart, silent.RollingPeriod, silent.ReportType = keys[0].RollingStart-10*144, 144, export.ReportConfirmedTest
	var revised export.Key
	rand.Read(revised.Data[:])
	revised.RollingStart, revised.RollingPeriod, revised.ReportType = keys[0].RollingStart, 144, export.ReportRevoked
	rep, err := b.MatchExports([][]byte{auth.export(t, append(keys, silent), []export.Key{revised})}, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(keys) + 2; rep.Keys != want || rep.Files != 1 || rep.Matched != 1 || rep.Revoked != 0 {
		t.Errorf("report %+v: want %d keys, 1 file, 1 matched, 0 revoked", rep, want)
	}
	if rep.KeysDerived < 1 || rep.KeysDerived > len(keys) {
		t.Errorf("report %+v: want 1 to %d keys derived (not the silent day's)", rep, len(keys))
	}
}

// TestAdvertiserModelCalibration: the authority's calibration of the
// advertiser's model (as the platform reports it with the scan) corrects
// the TX power: here it brings a far contact (75 dB, weight 0) to 55 dB
// (Immediate, weight 1) for 20 minutes, a warning; the same contact without
// the model stays far.
func TestAdvertiserModelCalibration(t *testing.T) {
	auth := newAuthority(t)
	cfg := risk.DefaultConfig()
	cfg.Calibration = map[string]risk.Calibration{"": {}, "Pixel 3": {TxCorrection: -20}}
	data, sig, err := risk.SignConfig(cfg, auth.key)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		model string
		want  int
	}{{"Pixel 3", LevelF1}, {"", LevelNone}, {"Pixel 2", LevelNone}} {
		a, b := newPhone(t, -8), newPhone(t, -8)
		b.PinPublicKey(auth.pem)
		if err := b.SetRiskConfig(data, sig); err != nil {
			t.Fatal(err)
		}
		start := day0.Add(9 * time.Hour)
		for at := start; at.Before(start.Add(20 * time.Minute)); at = at.Add(2 * time.Minute) {
			adv, _ := a.Advertisement(at.Unix())
			if err := b.HandleScan(adv.Payload, -83, at.Unix(), tt.model); err != nil {
				t.Fatal(err)
			}
		}
		now := start.Add(24 * time.Hour).Unix()
		if _, err := b.MatchExports([][]byte{auth.export(t, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)}, now); err != nil {
			t.Fatal(err)
		}
		if w := b.Warning(now); w.Level != tt.want {
			t.Errorf("advertiser model %q: warning %+v, want level %d", tt.model, w, tt.want)
		}
	}
}
