package server_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/risk"
	"github.com/bluezone-vn/bluezone/server"
)

var combinedInputRe = regexp.MustCompile(`name="(combined_weights\.\d\.\d)"[^>]*value="([^"]*)"`)

// TestSettingsShowCombinedWeights: the settings page shows each stored
// combined weight in its own report type and infectiousness cell, the other
// cells empty (the product applies), and no "Not saved" error when nothing
// is wrong.
func TestSettingsShowCombinedWeights(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{})
	b := e.signedIn(t, "admin@moh.gov.vn", server.RoleAdmin)
	stored := fmt.Sprintf(`{"combined_weights":[{"report_type":%d,"infectiousness":%d,"weight":1.6},{"report_type":%d,"infectiousness":%d,"weight":0.6}]}`,
		risk.ReportConfirmedTest, risk.InfectiousnessHigh, risk.ReportSelfReport, risk.InfectiousnessStandard)
	if err := e.db.SetSetting(context.Background(), "risk_config", stored); err != nil {
		t.Fatal(err)
	}
	st, body := b.do("GET", "/portal/settings", nil)
	if st != 200 {
		t.Fatalf("settings page: %d", st)
	}
	if strings.Contains(body, "Not saved") {
		t.Error("a valid configuration is shown as not saved")
	}
	got := map[string]string{}
	for _, m := range combinedInputRe.FindAllStringSubmatch(body, -1) {
		got[m[1]] = m[2]
	}
	want := map[string]string{
		fmt.Sprintf("combined_weights.%d.%d", risk.ReportConfirmedTest, risk.InfectiousnessHigh):  "1.6",
		fmt.Sprintf("combined_weights.%d.%d", risk.ReportSelfReport, risk.InfectiousnessStandard): "0.6",
	}
	if len(got) != 8 {
		t.Fatalf("%d combined weight cells, want 4 report types × 2 infectiousness levels: %v", len(got), got)
	}
	for name, v := range got {
		if v != want[name] {
			t.Errorf("cell %s shows %q, want %q", name, v, want[name])
		}
	}
}
