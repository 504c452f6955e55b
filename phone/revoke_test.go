package phone

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

// TestExposuresNameReportTypeAndRevocationsCountOnlyMatches: the
// calibration view (Exposures) gives each matched key's report type, and a
// REVOKED key withdraws (and counts in MatchReport.Revoked) only an
// exposure this phone had: revoking a key it never met counts nothing.
func TestExposuresNameReportTypeAndRevocationsCountOnlyMatches(t *testing.T) {
	auth := newAuthority(t)
	a, b := newPhone(t, -8), newPhone(t, -8)
	b.PinPublicKey(auth.pem)
	start := day0.Add(9 * time.Hour)
	meet(t, a, b, start, 20*time.Minute, -60)
	now := start.Add(24 * time.Hour).Unix()
	keys := published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedClinical)
	if rep, err := b.MatchExports([][]byte{auth.export(t, keys, nil)}, now); err != nil || rep.Matched != 1 {
		t.Fatalf("match %+v, %v", rep, err)
	}
	ex := b.Exposures(now)
	if len(ex) == 0 {
		t.Fatal("no exposure listed after a match")
	}
	for _, d := range ex {
		if d.ReportType != int(export.ReportConfirmedClinical) {
			t.Errorf("exposure %+v: report type %d, want %d (CONFIRMED_CLINICAL_DIAGNOSIS)", d, d.ReportType, export.ReportConfirmedClinical)
		}
	}

	var other export.Key
	rand.Read(other.Data[:])
	other.RollingStart, other.RollingPeriod, other.ReportType = keys[0].RollingStart, 144, export.ReportRevoked
	rep, err := b.MatchExports([][]byte{auth.export(t, nil, []export.Key{other})}, now)
	if err != nil || rep.Revoked != 0 {
		t.Errorf("revoking a key never met: %+v, %v; want 0 revoked", rep, err)
	}
	if w := b.Warning(now); w.Level != LevelF1 {
		t.Errorf("warning after an unrelated revocation %+v, want F1 kept", w)
	}
	var revoked []export.Key
	for _, k := range keys {
		k.ReportType = export.ReportRevoked
		revoked = append(revoked, k)
	}
	rep, err = b.MatchExports([][]byte{auth.export(t, nil, revoked)}, now)
	if err != nil || rep.Revoked != 1 {
		t.Errorf("revoking the matched keys: %+v, %v; want 1 revoked", rep, err)
	}
	if w := b.Warning(now); w.Level != LevelNone {
		t.Errorf("warning after revocation %+v, want none", w)
	}
}
