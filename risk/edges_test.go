package risk_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/risk"
)

// TestWindowIsAtMostWindowMinutes: EN v2 cuts exposure windows at 30
// minutes: a scan exactly 30 minutes after a window's first scan opens the
// next window; one second earlier still belongs to it.
func TestWindowIsAtMostWindowMinutes(t *testing.T) {
	c := risk.DefaultConfig()
	for _, tt := range []struct {
		after time.Duration
		want  int
	}{{30*time.Minute - time.Second, 1}, {30 * time.Minute, 2}, {30*time.Minute + time.Second, 2}} {
		ws := c.Windows([]risk.Scan{{Time: t0, Attenuation: 60, Seconds: 60}, {Time: t0.Add(tt.after), Attenuation: 60, Seconds: 60}})
		if len(ws) != tt.want {
			t.Errorf("second scan %v after the first: %d windows, want %d", tt.after, len(ws), tt.want)
		}
	}
}

// TestTransmissionRiskLevelEnds: levels 1 and 8 are weighed by the first
// and last TransmissionRiskWeights; 0 (none) and 9 weigh nothing extra.
func TestTransmissionRiskLevelEnds(t *testing.T) {
	c := risk.DefaultConfig()
	c.TransmissionRiskWeights[0], c.TransmissionRiskWeights[7] = 0.5, 0.25
	for _, tt := range []struct {
		trl  int
		want float64
	}{{0, 1}, {1, 0.5}, {2, 1}, {7, 1}, {8, 0.25}, {9, 1}} {
		if got := c.TransmissionWeight(risk.ReportConfirmedTest, risk.InfectiousnessStandard, tt.trl); !near(got, tt.want) {
			t.Errorf("transmission risk level %d: weight %v, want %v", tt.trl, got, tt.want)
		}
	}
}

// TestRecursiveWindowsCount: windows of RECURSIVE keys (F2 warnings) are
// scored like the other confirmed report types; REVOKED ones are not.
func TestRecursiveWindowsCount(t *testing.T) {
	c := risk.DefaultConfig()
	for _, tt := range []struct {
		rt   risk.ReportType
		want risk.Level
	}{
		{risk.ReportConfirmedTest, risk.LevelHigh},
		{risk.ReportConfirmedClinicalDiagnosis, risk.LevelHigh},
		{risk.ReportRecursive, risk.LevelHigh},
		{risk.ReportRevoked, risk.LevelNone},
	} {
		if _, got := c.ScoreWindow(withKey(window(50, 900), tt.rt, risk.InfectiousnessStandard)); got != tt.want {
			t.Errorf("report type %v: level %v, want %v", tt.rt, got, tt.want)
		}
	}
}

// TestValidateEdges pins the edges of Validate that TestValidate does not:
// equal attenuation thresholds (they must only not decrease), the onset
// map's ends 0 (none) and 2 (high), and combined weights for RECURSIVE.
func TestValidateEdges(t *testing.T) {
	tests := []struct {
		name   string
		change func(*risk.Config)
		want   []string
	}{
		{"first two thresholds equal", func(c *risk.Config) { c.AttenuationThresholds = [3]int{55, 55, 70} }, nil},
		{"last two thresholds equal", func(c *risk.Config) { c.AttenuationThresholds = [3]int{55, 63, 63} }, nil},
		{"last threshold decreases", func(c *risk.Config) { c.AttenuationThresholds = [3]int{55, 63, 62} }, []string{"attenuation_thresholds_db"}},
		{"onset none and high", func(c *risk.Config) {
			c.DaysSinceOnsetInfectiousness[0], c.DaysSinceOnsetInfectiousness[28] = risk.InfectiousnessNone, risk.InfectiousnessHigh
		}, nil},
		{"onset -1", func(c *risk.Config) { c.DaysSinceOnsetInfectiousness[0] = -1 }, []string{"days_since_onset_infectiousness"}},
		{"combined weight for RECURSIVE", func(c *risk.Config) {
			c.CombinedWeights = []risk.CombinedWeight{{ReportType: risk.ReportRecursive, Infectiousness: risk.InfectiousnessHigh, Weight: 1}}
		}, nil},
		{"combined weight for REVOKED", func(c *risk.Config) {
			c.CombinedWeights = []risk.CombinedWeight{{ReportType: risk.ReportRevoked, Infectiousness: risk.InfectiousnessHigh, Weight: 1}}
		}, []string{"combined_weights"}},
		{"combined weight for UNKNOWN", func(c *risk.Config) {
			c.CombinedWeights = []risk.CombinedWeight{{ReportType: risk.ReportUnknown, Infectiousness: risk.InfectiousnessHigh, Weight: 1}}
		}, []string{"combined_weights"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := risk.DefaultConfig()
			tt.change(&c)
			var got []string
			for _, fe := range fieldErrors(c.Validate()) {
				got = append(got, fe.Field)
			}
			if !sameSet(got, tt.want) {
				t.Fatalf("problems with %v, want %v", got, tt.want)
			}
		})
	}
}

// TestValidateMessagesNameTheEntry: the words shown to administrators name
// the entry in the terms of the form: transmission risk levels from 1,
// days since onset from −14 to +14, and the 29 values the map needs.
func TestValidateMessagesNameTheEntry(t *testing.T) {
	tests := []struct {
		name   string
		change func(*risk.Config)
		want   string
	}{
		{"first transmission risk weight", func(c *risk.Config) { c.TransmissionRiskWeights[0] = 11 }, "Weight of keys with transmission risk level 1"},
		{"last transmission risk weight", func(c *risk.Config) { c.TransmissionRiskWeights[7] = 11 }, "Weight of keys with transmission risk level 8"},
		{"onset map too short", func(c *risk.Config) { c.DaysSinceOnsetInfectiousness = c.DaysSinceOnsetInfectiousness[:3] }, "enter 29 values (for 14 days before onset to 14 days after), not 3"},
		{"first onset day", func(c *risk.Config) { c.DaysSinceOnsetInfectiousness[0] = 3 }, "3 on day -14"},
		{"onset day", func(c *risk.Config) { c.DaysSinceOnsetInfectiousness[14] = 3 }, "3 on day +0"},
		{"last onset day", func(c *risk.Config) { c.DaysSinceOnsetInfectiousness[28] = 7 }, "7 on day +14"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := risk.DefaultConfig()
			tt.change(&c)
			got := strings.Join(risk.Problems(c.Validate()), "\n")
			if !strings.Contains(got, tt.want) {
				t.Errorf("problems %q, want one containing %q", got, tt.want)
			}
		})
	}
}
