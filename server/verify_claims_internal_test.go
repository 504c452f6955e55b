package server

import (
	"testing"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

// TestLegacyClaims: tokens signed before the claims took Google's names
// (rt, td) are read for as long as they live; a token with Google's names
// is read by those, also when it carries the old ones too.
func TestLegacyClaims(t *testing.T) {
	for _, tt := range []struct {
		name   string
		c      tokenClaims
		rt     export.ReportType
		day    int64
		rtFail bool
	}{
		{"old names", tokenClaims{LegacyReportType: "CONFIRMED_TEST", LegacyTestDay: 20412}, export.ReportConfirmedTest, 20412, false},
		{"Google's names", tokenClaims{ReportType: "likely", SymptomOnsetInterval: 20412 * 144}, export.ReportConfirmedClinical, 20412, false},
		{"both: Google's win", tokenClaims{ReportType: "likely", LegacyReportType: "CONFIRMED_TEST", SymptomOnsetInterval: 20400 * 144, LegacyTestDay: 20412}, export.ReportConfirmedClinical, 20400, false},
		{"neither", tokenClaims{}, 0, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := tt.c.reportType()
			if (err != nil) != tt.rtFail || (!tt.rtFail && rt != tt.rt) {
				t.Errorf("report type %v, %v; want %v (error %v)", rt, err, tt.rt, tt.rtFail)
			}
			if d := tt.c.testDay(); d != tt.day {
				t.Errorf("test day %d, want %d", d, tt.day)
			}
		})
	}
}
