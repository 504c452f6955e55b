package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestSettingsAuditNamesOnlyChanges: the audit line of a saved risk
// configuration names exactly the settings that changed, each once, and
// says "published again, unchanged" when none did; the attenuation kind,
// the onset map and the combined weights are named only when they change.
func TestSettingsAuditNamesOnlyChanges(t *testing.T) {
	onset := "0,0,0,0,0,0,0,0,0,0,0,1,1,2,2,2,2,1,1,1,1,1,1,1,1,1,1,1,1"
	combined := url.Values{"combined_weights.1.1": {""}, "combined_weights.1.2": {"1.6"}, "combined_weights.2.1": {""}, "combined_weights.2.2": {""},
		"combined_weights.3.1": {""}, "combined_weights.3.2": {""}, "combined_weights.4.1": {""}, "combined_weights.4.2": {""}}
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{})
			admin := e.signedIn(t, "admin@moh.gov.vn", server.RoleAdmin)
			// Each step posts a form (fields left out keep their value) on
			// top of the previous step's configuration, which starts as the
			// default: 15 minutes, typical attenuation, standard
			// infectiousness every day, no combined weights.
			for _, step := range []struct {
				name   string
				form   url.Values
				exact  string // the whole detail, when given
				prefix string // else: the one change it names
			}{
				{name: "minutes only", form: url.Values{"minutes_threshold": {"10"}}, exact: "minutes_threshold 15→10"},
				{name: "nothing", form: url.Values{}, exact: "published again, unchanged"},
				{name: "attenuation kind", form: url.Values{"attenuation_kind": {"min"}}, exact: "attenuation_kind typical→min"},
				{name: "same kind again", form: url.Values{"attenuation_kind": {"min"}, "minutes_threshold": {"10"}}, exact: "published again, unchanged"},
				{name: "onset map", form: url.Values{"days_since_onset_infectiousness": {onset}}, prefix: "days_since_onset_infectiousness "},
				{name: "same onset again", form: url.Values{"days_since_onset_infectiousness": {onset}}, exact: "published again, unchanged"},
				{name: "combined weights", form: combined, prefix: "combined_weights "},
				{name: "same combined again", form: combined, exact: "published again, unchanged"},
			} {
				form := url.Values{}
				for k, v := range step.form {
					form[k] = v
				}
				st, body := admin.do("POST", "/portal/settings", form)
				if st != 200 || !strings.Contains(body, "published") {
					t.Fatalf("%s: %d", step.name, st)
				}
				audit, err := e.db.Audit(context.Background(), 1)
				if err != nil || len(audit) != 1 || audit[0].Action != "risk_settings" {
					t.Fatalf("%s: audit %+v, %v", step.name, audit, err)
				}
				d := audit[0].Detail
				if step.exact != "" && d != step.exact {
					t.Errorf("%s: audited %q, want %q", step.name, d, step.exact)
				}
				if step.prefix != "" && (!strings.HasPrefix(d, step.prefix) || strings.Contains(d, ", ")) {
					t.Errorf("%s: audited %q, want only a change of %s", step.name, d, strings.TrimSpace(step.prefix))
				}
			}
		})
	}
}
