package sim

import (
	"errors"
	"fmt"
	"math"
)

// RadioModel is the simulator's Bluetooth channel, in Exposure Notification
// terms: the attenuation a receiver computes from a scan result is the
// advertiser's calibrated TX power − (RSSI + the receiver's RSSI
// correction), and the model says what that attenuation is between two
// phones d metres apart, carried somewhere on two bodies.
//
// Every constant comes from the fit in sim/internal/radiofit (run it with
// `go run ./sim/cmd/radiofit`; docs/simulator.md shows the picture), on
// Herald's distance sweeps (two phones in line of sight, 0–3.4 m, 12
// models) and MIT PACT's carriage logs (iPhones on two people, 0.9–4.6 m,
// 8 body angles), with Google's EN calibration table for the Android models.
// TestRadioModelMatchesData re-runs the fit and fails when a constant here
// drifts from it.
type RadioModel struct {
	// Median attenuation by distance: three log-distance slopes on the
	// effective distance d' = max(d, MinDistance),
	//   A(d) = RefAttenuation + 10·NearExponent·log10(min(d', Breakpoint))
	//        + 10·MidExponent·log10(clamp(d', Breakpoint, FarBreakpoint)/Breakpoint)
	//        + 10·FarExponent·log10(max(d', FarBreakpoint)/FarBreakpoint).
	// Herald: nearly flat to 1.85 m (multipath fills in), steeper to 3.4 m;
	// two slopes leave 4.31 dB RMS around the positions' medians, one slope
	// 4.44 dB. MIT, beyond Herald's range, says the curve stops rising (its
	// fitted far slope, −0.9, is held at 0: a plateau).
	RefAttenuation float64 // dB at 1 m (Herald fit: 40.5)
	NearExponent   float64 // to Breakpoint (Herald fit: 0.75)
	Breakpoint     float64 // m (Herald fit, grid of 0.05 m: 1.85)
	MidExponent    float64 // Breakpoint to FarBreakpoint (Herald fit: 2.57)
	FarBreakpoint  float64 // m (MIT fit, grid of 0.1 m from Herald's last distance: 3.4)
	FarExponent    float64 // beyond FarBreakpoint (MIT fit −0.88, held at 0)
	MinDistance    float64 // m: closer pairs count as this far (touching phones left out of the fit: 0.25)

	// Spread around the median. EncounterSigma is drawn once per pair and
	// 10-minute slot (Herald: the spread of positions' medians around the
	// curve, the same distance a few cm apart, 4.0 dB); ScanSigma once per
	// scan (Herald: 4-second scans around their position's median, 2.3 dB);
	// BodyAngleSigma once per pair and slot on top of EncounterSigma (MIT:
	// medians at 8 body angles around their mean spread 4.75 dB, of which
	// sqrt(4.75² − 4.0²) = 2.5 dB is beyond the multipath Herald sees).
	// Herald shows no clear trend of either spread with distance (σ by
	// 0.25 m bin: 2.7–4.9 dB and 1.9–2.7 dB), so they are constants.
	EncounterSigma, ScanSigma, BodyAngleSigma float64 // dB

	// CarriageLoss is each phone's extra attenuation where it is carried,
	// against Herald's line of sight (MIT, least squares over 829 medians
	// of 13 collections, residual 6.6 dB RMS: rooms and phones differ
	// between collections). A pair adds both phones' losses.
	CarriageLoss [carriages]float64 // dB
	// CarriageShare is how often a phone is carried each way on a day. No
	// data set here measures it: it is an assumption, to be argued with.
	CarriageShare [carriages]float64

	// TxErrorSigma and RxErrorSigma are a phone's residual TX and RX errors
	// after the authority's calibration, drawn once per phone: the RMS of
	// Herald's per-model offsets (12 models, both directions, Google's
	// table for the Android models: 3.1 and 3.8 dB).
	TxErrorSigma, RxErrorSigma float64 // dB

	// Sensitivity is the weakest RSSI a phone reports (dBm); HearingRange
	// bounds the pairs evaluated at all (m).
	Sensitivity, HearingRange float64
}

// Carriage is where a phone is carried.
type Carriage int

// Carriages, as MIT PACT names them.
const (
	InHand Carriage = iota
	ShirtPocket
	FrontTrouserPocket
	BackTrouserPocket
	Bag
	carriages
)

var carriageNames = [carriages]string{"hand", "shirt pocket", "front trouser pocket", "back trouser pocket", "bag"}

func (c Carriage) String() string { return carriageNames[c] }

// DefaultRadio is the model fitted to the reference data.
func DefaultRadio() RadioModel {
	return RadioModel{
		RefAttenuation: 40.5, NearExponent: 0.75, Breakpoint: 1.85,
		MidExponent: 2.57, FarBreakpoint: 3.4, FarExponent: 0, MinDistance: 0.25,
		EncounterSigma: 4.0, ScanSigma: 2.3, BodyAngleSigma: 2.5,
		// MIT: hand 3.4, shirt pocket 5.2, front trouser pocket 6.3, back
		// trouser pocket 17.9, purse 4.7 dB.
		CarriageLoss:  [carriages]float64{InHand: 3.4, ShirtPocket: 5.2, FrontTrouserPocket: 6.3, BackTrouserPocket: 17.9, Bag: 4.7},
		CarriageShare: [carriages]float64{InHand: 0.2, ShirtPocket: 0.1, FrontTrouserPocket: 0.35, BackTrouserPocket: 0.1, Bag: 0.25},
		TxErrorSigma:  3.1, RxErrorSigma: 3.8,
		Sensitivity: -100, HearingRange: 10,
	}
}

// Median is the median attenuation between two phones d metres apart in
// line of sight, with no body in the way (dB).
func (m RadioModel) Median(d float64) float64 {
	e := max(d, m.MinDistance)
	return m.RefAttenuation + 10*m.NearExponent*math.Log10(min(e, m.Breakpoint)) +
		10*m.MidExponent*math.Log10(min(max(e, m.Breakpoint), m.FarBreakpoint)/m.Breakpoint) +
		10*m.FarExponent*math.Log10(max(e, m.FarBreakpoint)/m.FarBreakpoint)
}

// encounterSigma is the spread drawn once per pair and slot.
func (m RadioModel) encounterSigma() float64 { return math.Hypot(m.EncounterSigma, m.BodyAngleSigma) }

// pickCarriage maps a uniform draw u in [0, 1) to a carriage.
func (m RadioModel) pickCarriage(u float64) Carriage {
	for c := range carriages {
		if u < m.CarriageShare[c] {
			return c
		}
		u -= m.CarriageShare[c]
	}
	return carriages - 1
}

// Validate reports every problem at once.
func (m RadioModel) Validate() error {
	var errs []error
	if !(m.Breakpoint > 0 && m.FarBreakpoint >= m.Breakpoint && m.MinDistance > 0) {
		errs = append(errs, fmt.Errorf("breakpoints %v, %v m and minimum distance %v m: want 0 < minimum, 0 < breakpoint ≤ far breakpoint", m.Breakpoint, m.FarBreakpoint, m.MinDistance))
	}
	for _, s := range []float64{m.EncounterSigma, m.ScanSigma, m.BodyAngleSigma, m.TxErrorSigma, m.RxErrorSigma} {
		if s < 0 || math.IsNaN(s) {
			errs = append(errs, fmt.Errorf("spread %v dB: want 0 or more", s))
		}
	}
	total := 0.0
	for _, s := range m.CarriageShare {
		total += s
	}
	if math.Abs(total-1) > 1e-9 {
		errs = append(errs, fmt.Errorf("carriage shares sum to %v, want 1", total))
	}
	if !(m.HearingRange > 0) {
		errs = append(errs, fmt.Errorf("hearing range %v m: want more than 0", m.HearingRange))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("radio model: %w", err)
	}
	return nil
}
