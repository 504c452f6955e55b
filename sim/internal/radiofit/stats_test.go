package radiofit

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestNormalSolve(t *testing.T) {
	// y = 2 + 3·x, exactly: least squares must recover it.
	s := newNormal(2)
	for x := range 10 {
		s.add([]int{0, 1}, []float64{1, float64(x)}, 2+3*float64(x), 1)
	}
	beta, err := s.solve(1e-9)
	if err != nil || math.Abs(beta[0]-2) > 1e-6 || math.Abs(beta[1]-3) > 1e-6 {
		t.Fatalf("solve = %v, %v; want [2 3]", beta, err)
	}
}

func TestQuantiles(t *testing.T) {
	// Weights count, not rows: one value of weight 3 against three of weight 1.
	xs := []weighted{{10, 3}, {1, 1}, {2, 1}, {3, 1}}
	q := quantiles(xs, 0.1, 0.5, 0.6)
	if q[0] != 1 || q[1] != 3 || q[2] != 10 {
		t.Errorf("quantiles = %v, want [1 3 10]", q)
	}
	if m := median([]float64{3, 1, 2, 4}); m != 2.5 {
		t.Errorf("median = %v, want 2.5", m)
	}
	// A normal sample's robust sigma is its sigma.
	var ns []weighted
	for i := 1; i < 10000; i++ {
		ns = append(ns, weighted{2 * math.Sqrt2 * math.Erfinv(2*float64(i)/10000-1), 1})
	}
	if s := robustSigma(ns); math.Abs(s-2) > 0.01 {
		t.Errorf("robust sigma of N(0, 2²) = %v", s)
	}
}

func TestReadCalibration(t *testing.T) {
	dir := t.TempDir()
	csv := "oem,device, model,rssi correction,tx,calibration confidence\n" +
		"google,walleye,Pixel 2,2,-28,1\n" +
		"google,walleye,Pixel 2,9,-9,1\n" + // a later row of the same model does not win
		"samsung,a20,SM-A205F,5,-24,1\n"
	if err := os.WriteFile(filepath.Join(dir, CalibrationFile), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	cal, err := ReadCalibration(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cal["Pixel 2"] != (Calibration{RSSICorrection: 2, TxPower: -28}) || cal["SM-A205F"] != (Calibration{RSSICorrection: 5, TxPower: -24}) {
		t.Errorf("ReadCalibration = %v", cal)
	}
	if err := os.WriteFile(filepath.Join(dir, CalibrationFile), []byte("h\nx,y,z,notanumber,1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCalibration(dir); err == nil {
		t.Error("a bad number was accepted")
	}
}
