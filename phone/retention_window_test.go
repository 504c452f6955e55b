package phone

import (
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

// TestExposureRetentionIs14Days: a matched exposure counts while its day is
// within the last 14 days (RetentionDays): on the 14th day after it, it
// still warns; on the 15th it is forgotten.
func TestExposureRetentionIs14Days(t *testing.T) {
	auth := newAuthority(t)
	a, b := newPhone(t, -8), newPhone(t, -8)
	b.PinPublicKey(auth.pem)
	meet(t, a, b, day0.Add(9*time.Hour), 20*time.Minute, -60)
	at := day0.Add(24 * time.Hour).Unix()
	if rep, err := b.MatchExports([][]byte{auth.export(t, published(a.DiagnosisKeys(day0.Unix(), at), export.ReportConfirmedTest), nil)}, at); err != nil || rep.Matched != 1 {
		t.Fatalf("match %+v, %v", rep, err)
	}
	for _, tt := range []struct {
		after time.Duration // from the start of the contact's day
		want  int
	}{
		{14*24*time.Hour + 23*time.Hour, LevelF1}, // the 14th day after
		{15 * 24 * time.Hour, LevelNone},          // the 15th
	} {
		now := day0.Add(tt.after).Unix()
		if w := b.Warning(now); w.Level != tt.want {
			t.Errorf("%v after the contact's day began: warning %+v, want level %d", tt.after, w, tt.want)
		}
	}
}
