package phone

import (
	"strings"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
)

// scoredContact: rx (model rxModel) hears tx every 5 minutes for d at rssi,
// then matches tx's keys published with the given report type and days
// since onset, under configuration c (signed by the authority).
func scoredContact(t *testing.T, c risk.Config, rxModel string, d time.Duration, rssi int, rt export.ReportType, dso int32) *Engine {
	t.Helper()
	return scoredContactBy(t, newAuthority(t), c, rxModel, d, rssi, rt, dso)
}

func scoredContactBy(t *testing.T, auth *authority, c risk.Config, rxModel string, d time.Duration, rssi int, rt export.ReportType, dso int32) *Engine {
	t.Helper()
	tx := newPhone(t, -8)
	rx, err := Open(t.TempDir(), storageKey(1), Config{TxPower: -8, Model: rxModel})
	if err != nil {
		t.Fatal(err)
	}
	rx.PinPublicKey(auth.pem)
	data, sig, err := risk.SignConfig(c, auth.key)
	if err != nil {
		t.Fatal(err)
	}
	if err := rx.SetRiskConfig(data, sig); err != nil {
		t.Fatal(err)
	}
	start := day0.Add(9 * time.Hour)
	for at := start; at.Before(start.Add(d)); at = at.Add(5 * time.Minute) {
		adv, _ := tx.Advertisement(at.Unix())
		if err := rx.HandleScan(adv.Payload, rssi, at.Unix(), ""); err != nil {
			t.Fatal(err)
		}
	}
	now := start.Add(24 * time.Hour).Unix()
	keys := published(tx.DiagnosisKeys(day0.Unix(), now), rt)
	for i := range keys {
		keys[i].DaysSinceOnset = dso
		if dso == dsoMissing {
			keys[i].DaysSinceOnset, keys[i].Missing = 0, export.FieldDaysSinceOnset
		}
	}
	matchWith(t, rx, [][]byte{auth.export(t, keys, nil)}, now, nil)
	return rx
}

// dsoMissing asks scoredContact for keys without days since onset.
const dsoMissing = 99

// TestV2ScoringInTheEngine: report type weights, infectiousness from days
// since onset, the low level and re-scoring under a new configuration all
// reach the phone's warning. Unknown models get Google's fleet-wide RSSI
// correction (+3 dB): -65 dBm from TX -8 is 57 - 3 = 54 dB, Immediate.
func TestV2ScoringInTheEngine(t *testing.T) {
	now := day0.Add(33 * time.Hour).Unix()
	noSelfReports := risk.DefaultConfig() // self reports weigh 0 by default
	clinicalHalf := risk.DefaultConfig()
	clinicalHalf.ClinicalDiagnosisWeight = 0.5
	notInfectious := risk.DefaultConfig()
	notInfectious.DaysSinceOnsetInfectiousness[risk.MaxDaysSinceOnset-5] = risk.InfectiousnessNone // 5 days before onset
	missingNone := risk.DefaultConfig()
	missingNone.InfectiousnessWhenMissing = risk.InfectiousnessNone
	withLow := risk.DefaultConfig()
	withLow.DayLowScore = 5
	tests := []struct {
		name    string
		c       risk.Config
		d       time.Duration
		rt      export.ReportType
		dso     int32
		level   int
		minutes float64
		lowDay  bool
	}{
		{"confirmed test, 20 minutes", risk.DefaultConfig(), 20 * time.Minute, export.ReportConfirmedTest, 0, LevelF1, 20, false},
		{"self report weighs 0", noSelfReports, 20 * time.Minute, export.ReportSelfReport, 0, LevelNone, 0, false},
		{"clinical at half weight: 40 minutes count 20", clinicalHalf, 40 * time.Minute, export.ReportConfirmedClinical, 0, LevelF1, 20, false},
		{"clinical at half weight: 20 minutes count 10", clinicalHalf, 20 * time.Minute, export.ReportConfirmedClinical, 0, LevelNone, 0, false},
		{"not infectious 5 days before onset", notInfectious, 40 * time.Minute, export.ReportConfirmedTest, -5, LevelNone, 0, false},
		{"infectious 4 days before onset", notInfectious, 40 * time.Minute, export.ReportConfirmedTest, -4, LevelF1, 40, false},
		{"10 minutes: low risk, no warning", withLow, 10 * time.Minute, export.ReportConfirmedTest, 0, LevelNone, 0, true},
		{"recursive: F2", risk.DefaultConfig(), 20 * time.Minute, export.ReportRecursive, 0, LevelF2, 20, false},
		{"days since onset missing: the configuration's infectiousness for it", missingNone, 40 * time.Minute, export.ReportConfirmedTest, dsoMissing, LevelNone, 0, false},
		{"days since onset 0 is not missing", missingNone, 40 * time.Minute, export.ReportConfirmedTest, 0, LevelF1, 40, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rx := scoredContact(t, tt.c, "", tt.d, -65, tt.rt, tt.dso)
			w := rx.Warning(now)
			if w.Level != tt.level || tt.level != LevelNone && !near(w.Minutes, tt.minutes) {
				t.Errorf("warning %+v, want level %d with %.1f minutes", w, tt.level, tt.minutes)
			}
			if (w.LowRiskDay != "") != tt.lowDay {
				t.Errorf("low risk day %q, want one: %v", w.LowRiskDay, tt.lowDay)
			}
		})
	}
}

// TestNewConfigurationRescoresMatchedContacts: contacts already matched are
// scored afresh when the authority changes the bucket weights.
func TestNewConfigurationRescoresMatchedContacts(t *testing.T) {
	auth := newAuthority(t)
	rx := scoredContactBy(t, auth, risk.DefaultConfig(), "", 20*time.Minute, -75, export.ReportConfirmedTest, 0)
	now := day0.Add(33 * time.Hour).Unix()
	if w := rx.Warning(now); w.Level != LevelNone { // 64 dB: Medium, weight 0.25: 5 minutes
		t.Fatalf("warning %+v before the change", w)
	}
	exp := rx.Exposures(now)
	if len(exp) != 1 || !near(exp[0].Minutes, 5) || exp[0].Level != 0 || exp[0].Windows != 1 {
		t.Fatalf("exposures %+v: want one day of 5 minutes", exp)
	}
	c := risk.DefaultConfig()
	c.BucketWeights[risk.Medium] = 1
	data, sig, _ := risk.SignConfig(c, auth.key)
	if err := rx.SetRiskConfig(data, sig); err != nil {
		t.Fatal(err)
	}
	if w := rx.Warning(now); w.Level != LevelF1 || !near(w.Minutes, 20) {
		t.Errorf("warning %+v after Medium's weight went to 1: want F1 with 20 minutes", w)
	}
}

// TestCalibrationTableApplies: a phone of a model in Google's table corrects
// its RSSI by the table's value, unless the authority's configuration
// calibrates the model itself.
func TestCalibrationTableApplies(t *testing.T) {
	now := day0.Add(33 * time.Hour).Unix()
	byConfig := risk.DefaultConfig()
	byConfig.Calibration = map[string]risk.Calibration{"SM-G973F": {RSSICorrection: 0}}
	tests := []struct {
		name    string
		model   string
		c       risk.Config
		minutes float64
	}{
		// -68 dBm from TX -8: 60 dB raw, Near (weight 0.5).
		// SM-G973F reads 5 dB low (table +5): 55 dB, Immediate: 20 minutes.
		{"SM-G973F from the table", "SM-G973F", risk.DefaultConfig(), 20},
		// Unknown model: the fleet-wide +3: 57 dB, Near: 10 minutes.
		{"unknown model", "", risk.DefaultConfig(), 10},
		// The configuration says 0 for SM-G973F: 60 dB, Near: 10.
		{"configuration overrides the table", "SM-G973F", byConfig, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rx := scoredContact(t, tt.c, tt.model, 20*time.Minute, -68, export.ReportConfirmedTest, 0)
			if exp := rx.Exposures(now); len(exp) != 1 || !near(exp[0].Minutes, tt.minutes) {
				t.Errorf("exposures %+v, want %.0f minutes", exp, tt.minutes)
			}
		})
	}
}

// TestTypicalOrMinimumAttenuation: each scan keeps the strongest and the
// mean of its reports; the configuration picks which sets the bucket.
// Reports at -66 and -86 dBm, TX -8, the fleet-wide +3: min attenuation -8 - (-66 + 3) = 55 (Immediate), typical
// -8 - (-76 + 3) = 65 (Medium, weight 0.25).
func TestTypicalOrMinimumAttenuation(t *testing.T) {
	minCfg := risk.DefaultConfig()
	minCfg.AttenuationKind = risk.AttenuationMin
	for _, tt := range []struct {
		c       risk.Config
		minutes float64
	}{{risk.DefaultConfig(), 5}, {minCfg, 20}} {
		t.Run(tt.c.AttenuationKind, func(t *testing.T) {
			auth := newAuthority(t)
			tx, rx := newPhone(t, -8), newPhone(t, -8)
			rx.PinPublicKey(auth.pem)
			data, sig, _ := risk.SignConfig(tt.c, auth.key)
			if err := rx.SetRiskConfig(data, sig); err != nil {
				t.Fatal(err)
			}
			start := day0.Add(9 * time.Hour)
			for at := start; at.Before(start.Add(20 * time.Minute)); at = at.Add(5 * time.Minute) {
				adv, _ := tx.Advertisement(at.Unix())
				rx.HandleScan(adv.Payload, -66, at.Unix(), "")
				rx.HandleScan(adv.Payload, -86, at.Unix()+2, "")
			}
			now := start.Add(24 * time.Hour).Unix()
			matchWith(t, rx, [][]byte{auth.export(t, published(tx.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)}, now, nil)
			if exp := rx.Exposures(now); len(exp) != 1 || !near(exp[0].Minutes, tt.minutes) {
				t.Errorf("exposures %+v, want %.0f minutes", exp, tt.minutes)
			}
		})
	}
}

// TestAdviceInThePhonesLanguage: a Vietnamese phone gives its advice in
// Vietnamese; an unknown language is refused at Open.
func TestAdviceInThePhonesLanguage(t *testing.T) {
	for _, tt := range []struct {
		lang, want string
	}{{"", AdviceF1}, {"en", AdviceF1}, {"vi", "Bạn đã tiếp xúc gần với một ca bệnh đã được xác nhận (F0)."}} {
		auth := newAuthority(t)
		tx := newPhone(t, -8)
		rx, err := Open(t.TempDir(), storageKey(1), Config{TxPower: -8, Language: tt.lang})
		if err != nil {
			t.Fatal(err)
		}
		rx.PinPublicKey(auth.pem)
		meet(t, tx, rx, day0.Add(9*time.Hour), 20*time.Minute, -60)
		now := day0.Add(33 * time.Hour).Unix()
		matchWith(t, rx, [][]byte{auth.export(t, published(tx.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)}, now, nil)
		if w := rx.Warning(now); w.Level != LevelF1 || !strings.HasPrefix(w.Advice, tt.want) {
			t.Errorf("language %q: warning %+v, want advice starting %q", tt.lang, w, tt.want)
		}
	}
	if Advice(LevelF2, "vi") == Advice(LevelF2, "en") || Advice(LevelNone, "vi") != "" {
		t.Error("F2 advice is not translated, or level none has advice")
	}
	if _, err := Open(t.TempDir(), storageKey(1), Config{Language: "fr"}); err == nil {
		t.Error("language fr was accepted")
	}
}
