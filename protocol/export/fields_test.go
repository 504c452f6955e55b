package export_test

import (
	"testing"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

// TestParseFieldsEveryName: each field name, alone and joined with '+',
// reads back as the field String wrote; an unknown name is an error.
func TestParseFieldsEveryName(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want export.Fields
	}{
		{"rolling_period", export.FieldRollingPeriod},
		{"report_type", export.FieldReportType},
		{"transmission_risk", export.FieldTransmissionRisk},
		{"days_since_onset", export.FieldDaysSinceOnset},
		{"rolling_period+days_since_onset", export.FieldRollingPeriod | export.FieldDaysSinceOnset},
	} {
		got, err := export.ParseFields(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseFields(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("Fields(%q).String() = %q", tt.in, got.String())
		}
	}
	if _, err := export.ParseFields("rolling_periods"); err == nil {
		t.Error("an unknown field name was read")
	}
}

// TestValidateRefusesUnknownMissingFields: a key may only lack the four
// optional fields there are; the first bit past them is refused as well as
// any higher one.
func TestValidateRefusesUnknownMissingFields(t *testing.T) {
	k := mustKey(t, "00112233445566778899aabbccddeeff", 2834064, 144, export.ReportUnknown, 0, 0)
	for _, tt := range []struct {
		missing export.Fields
		ok      bool
	}{
		{export.FieldRollingPeriod, true},
		{export.FieldRollingPeriod << 1, false},
		{export.FieldRollingPeriod << 2, false},
	} {
		k.Missing = tt.missing
		if err := k.Validate(); (err == nil) != tt.ok {
			t.Errorf("Missing %#x: Validate() = %v, want ok %v", uint8(tt.missing), err, tt.ok)
		}
	}
}
