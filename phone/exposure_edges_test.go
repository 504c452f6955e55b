package phone

import (
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

// TestLegacyExposureThresholdAndRetention: a score kept from before
// exposure windows warns at exactly the minutes threshold (the day's high
// level, risk.Config.MinutesThreshold), and is kept, like windows, through
// day today-RetentionDays and gone the day before.
func TestLegacyExposureThresholdAndRetention(t *testing.T) {
	now := day0.Add(20*24*time.Hour + 9*time.Hour).Unix()
	today := now / secondsPerDay
	for _, tt := range []struct {
		name    string
		day     int64
		minutes float64 // added to the threshold
		want    int
	}{
		{"at the threshold", today - 1, 0, LevelF1},
		{"just under the threshold", today - 1, -0.5, LevelNone},
		{"oldest day kept", today - RetentionDays, 0, LevelF1},
		{"a day older", today - RetentionDays - 1, 0, LevelNone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newPhone(t, -8)
			e.mu.Lock()
			threshold := e.risk.MinutesThreshold
			e.state.Exposures["00112233445566778899aabbccddeeff"] = []exposure{{Day: tt.day, Minutes: threshold + tt.minutes, ReportType: int32(export.ReportConfirmedTest)}}
			e.mu.Unlock()
			if threshold <= 1 {
				t.Fatalf("threshold %v: the test needs one above 1", threshold)
			}
			if w := e.Warning(now); w.Level != tt.want {
				t.Errorf("warning %+v, want level %d", w, tt.want)
			}
		})
	}
}
