package sim

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/bluezone-vn/bluezone/sim/internal/radiofit"
)

// referenceData is the shared reference data, relative to this package
// (the project root's ../shared/data).
var referenceData = filepath.Join("..", "..", "shared", "data")

func needReferenceData(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(referenceData, radiofit.HeraldFile)); err != nil {
		if os.Getenv("BLUEZONE_REQUIRE_REFERENCE") == "1" {
			t.Fatalf("reference data required (BLUEZONE_REQUIRE_REFERENCE=1): %v", err)
		}
		t.Skipf("reference data not found (%v): the radio model is not checked against it", err)
	}
}

// TestRadioModelMatchesData re-runs the fit and checks that the constants
// compiled into DefaultRadio and the device table agree with it, so that
// they cannot drift from the data silently. The tolerances cover the
// rounding of the constants (to 0.1 dB, 0.01 in exponents) and nothing more.
func TestRadioModelMatchesData(t *testing.T) {
	needReferenceData(t)
	f, err := radiofit.Run(referenceData)
	if err != nil {
		t.Fatal(err)
	}
	r := DefaultRadio()
	for _, c := range []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"RefAttenuation (dB)", r.RefAttenuation, f.RefAttenuation, 0.06},
		{"NearExponent", r.NearExponent, f.NearExponent, 0.006},
		{"Breakpoint (m)", r.Breakpoint, f.Breakpoint, 0.001},
		{"MidExponent", r.MidExponent, f.MidExponent, 0.006},
		{"FarBreakpoint (m)", r.FarBreakpoint, f.FarBreakpoint, 0.001},
		{"FarExponent", r.FarExponent, f.FarExponent, 0.006},
		{"MinDistance (m)", r.MinDistance, radiofit.MinDistance + f.DistanceOffset, 0.001},
		{"EncounterSigma (dB)", r.EncounterSigma, f.SlowSigma, 0.06},
		{"ScanSigma (dB)", r.ScanSigma, f.FastSigma, 0.06},
		{"BodyAngleSigma (dB)", r.BodyAngleSigma, f.BodyAngleSigma, 0.06},
		{"TxErrorSigma (dB)", r.TxErrorSigma, f.TxSpread, 0.06},
		{"RxErrorSigma (dB)", r.RxErrorSigma, f.RxSpread, 0.06},
	} {
		if math.Abs(c.got-c.want) > c.tol {
			t.Errorf("%s = %v in DefaultRadio, the fit gives %.3f (tolerance %v): run go run ./sim/cmd/radiofit and update", c.name, c.got, c.want, c.tol)
		}
	}
	if len(radiofit.Locations) != int(carriages) {
		t.Fatalf("radiofit has %d locations, the simulator %d carriages", len(radiofit.Locations), carriages)
	}
	for i, loc := range radiofit.Locations { // in the order of the carriages
		if got, want := r.CarriageLoss[i], f.CarriageLoss[loc]; math.Abs(got-want) > 0.06 {
			t.Errorf("CarriageLoss[%v] = %v, the fit gives %.3f for %s", Carriage(i), got, want, loc)
		}
	}
	// The device table: Android models from Google's table, iPhones with
	// the fitted TX power.
	cal, err := radiofit.ReadCalibration(referenceData)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range models {
		if m.iOS {
			if m.rssiCorrection != 0 || math.Abs(float64(m.txPower)-f.IOSTxPower) > 0.5 {
				t.Errorf("%s: TX %d dBm, correction %d dB; want the fitted %.1f dBm, 0 dB", m.name, m.txPower, m.rssiCorrection, f.IOSTxPower)
			}
			continue
		}
		c, ok := cal[m.name]
		if !ok {
			t.Errorf("%s is not in Google's table", m.name)
			continue
		}
		if c.TxPower != m.txPower || c.RSSICorrection != m.rssiCorrection {
			t.Errorf("%s: TX %d dBm, correction %d dB; Google's table says %d, %d", m.name, m.txPower, m.rssiCorrection, c.TxPower, c.RSSICorrection)
		}
	}
}
