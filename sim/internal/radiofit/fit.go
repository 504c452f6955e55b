package radiofit

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// HeraldModels maps Herald's phone names to Build.MODEL in Google's table.
// The regional variant of the Herald phones is not known (data README,
// section 4); these are the variants the README names. Phones not listed
// are iPhones.
var HeraldModels = map[string]string{
	"Google Pixel 2": "Pixel 2",
	"Google Pixel 3": "Pixel 3",
	"Samsung A10":    "SM-A105F",
	"Samsung A20":    "SM-A205F",
	"Samsung J6":     "SM-J600F",
	"Samsung Note 8": "SM-N950F",
	"Samsung S9+":    "SM-G965F",
}

// Scan window: Android's EN scans for about 4 s, and the engine keeps the
// strongest report of an identifier within a scan; a Herald or MIT
// "scan" is therefore the strongest row in a 4-second window.
const scanSeconds = 4

// minWindows drops positions held for less than 20 s, too short for a median.
const minWindows = 5

// MinDistance: positions closer than this (m, case to case) are left out.
// Phones touching or nearly so (a fifth of Herald's rows) are not how two
// people's phones meet, and their near field varies by 20 dB between
// positions; the simulator treats closer pairs as this far apart.
const MinDistance = 0.25

// Location names of the MIT PACT data, in the order the fit reports them.
var Locations = []string{"hand", "shirt_pocket", "front_pants_pocket", "back_pants_pocket", "purse"}

// Fit is the result of fitting the radio model to the reference data. All
// attenuations are in EN's terms: calibrated TX power − (RSSI + receiver's
// RSSI correction), in dB.
type Fit struct {
	// Median attenuation by distance d (m): a three-slope log-distance
	// model on the effective distance d' = max(d, MinDistance) + DistanceOffset,
	//   A(d) = RefAttenuation + 10·NearExponent·log10(min(d', Breakpoint))
	//          + 10·MidExponent·log10(clamp(d', Breakpoint, FarBreakpoint)/Breakpoint)
	//          + 10·FarExponent·log10(max(d', FarBreakpoint)/FarBreakpoint).
	// Herald (0.25–3.4 m) fits the first two slopes; MIT PACT (to 4.6 m)
	// the third, beyond Herald's range, together with the carriage losses.
	RefAttenuation float64 // dB at an effective distance of 1 m (on the near slope)
	NearExponent   float64
	MidExponent    float64
	FarExponent    float64
	Breakpoint     float64 // m, effective distance
	FarBreakpoint  float64 // m
	// DistanceOffset (m) would be added to the case-to-case distance for
	// the antennas' positions inside the phones; with the clamp at
	// MinDistance a grid of 0–0.5 m chose 0, so it is kept at 0.
	DistanceOffset float64
	// OneSlopeRMS and RMS compare a single slope with two on Herald: the
	// RMS of the positions' medians around each, after device offsets.
	OneSlopeRMS, RMS float64
	// MITRMSWithoutFar is the carriage fit's residual RMS when the middle
	// slope goes on beyond Herald's range, CarriageRMS with the far slope.
	MITRMSWithoutFar float64
	// FarExponentFitted is the far slope before it is held at zero or more.
	FarExponentFitted float64

	// SlowSigma is the spread of a position's median around the curve
	// (multipath: the same distance a few cm apart differs); FastSigma the
	// spread of 4-second scans around their position's median.
	SlowSigma, FastSigma float64

	// IOSTxPower is the calibrated TX power that makes iPhones' attenuations
	// agree with the Android models' (Google's TX power is defined as what a
	// typical iPhone would report); iPhones' RSSI correction is 0, Google's
	// reference receiver being a typical iPhone.
	IOSTxPower float64
	// TxOffsets and RxOffsets are each model's residual error after
	// calibration (dB, positive: higher attenuation than calibrated),
	// keyed by Herald phone name; TxSpread and RxSpread their RMS.
	TxOffsets, RxOffsets map[string]float64
	TxSpread, RxSpread   float64

	// CarriageLoss is the loss of a phone carried at a location (MIT PACT
	// location names) against Herald's line of sight, in dB, for each phone
	// of a pair; CarriageRMS the residual of a collection, distance and
	// angle's median around the sum of the two.
	CarriageLoss map[string]float64
	CarriageRMS  float64
	// AngleSigma is the spread of the body angle's effect (MIT: medians at
	// each of 8 angles around their mean at one distance), and
	// BodyAngleSigma what it adds to SlowSigma: sqrt(AngleSigma² − SlowSigma²).
	AngleSigma, BodyAngleSigma float64
	// MITDistanceBias is the mean residual of the carriage fit by MIT
	// distance (m): near zero when the far slope extends to 4.6 m.
	MITDistanceBias [][2]float64

	Bins        []Bin        // Herald by distance, for the picture
	Collections []Collection // MIT by collection, for the picture

	HeraldRows, Positions, PositionsFitted int
	MITRows, MITDuplicates, MITGroups      int
}

// Bin is Herald's data in one distance bin: per-scan attenuations with
// device offsets removed, each position weighing the same.
type Bin struct {
	Lo, Hi          float64 // m
	Positions       int
	Q10, Q50, Q90   float64 // dB
	Slow, Fast      float64 // σ in this bin, dB
	MeanResidual    float64 // of the positions' medians around the curve
	MeanDistance    float64
	SamplesPerPoint float64
}

// Collection is one MIT PACT collection: the excess over Herald's curve of
// its (distance, angle) medians, and what the carriage model predicts.
type Collection struct {
	Name          string
	RxLoc, TxLoc  string
	Q10, Q50, Q90 float64
	Model         float64
}

// Median is the fitted median attenuation at distance d (m).
func (f *Fit) Median(d float64) float64 {
	return PathLoss(d, f.RefAttenuation, f.NearExponent, f.MidExponent, f.FarExponent, f.Breakpoint, f.FarBreakpoint, f.DistanceOffset)
}

// PathLoss is the three-slope model of Fit.Median with its parameters.
func PathLoss(d, ref, n1, n2, n3, bp, bp2, off float64) float64 {
	e := max(d, MinDistance) + off
	return ref + 10*n1*math.Log10(min(e, bp)) + 10*n2*math.Log10(min(max(e, bp), bp2)/bp) + 10*n3*math.Log10(max(e, bp2)/bp2)
}

// position is one held position of a Herald sweep.
type position struct {
	rx, tx   string
	txi, rxi int // their parameters in the fit
	d        float64
	med      float64   // median of its scans' attenuations
	dev      []float64 // each scan's attenuation minus med
}

// Run fits the model to the data in dir.
func Run(dir string) (*Fit, error) {
	cal, err := ReadCalibration(dir)
	if err != nil {
		return nil, err
	}
	rows, err := readHerald(dir)
	if err != nil {
		return nil, err
	}
	f := &Fit{HeraldRows: len(rows)}
	// txCal and rxCorr give the calibration of a Herald phone; iPhones get
	// 0 and 0 here, their TX power being fitted below.
	txCal := func(name string) float64 {
		if m, ok := HeraldModels[name]; ok {
			return float64(cal[m].TxPower)
		}
		return 0
	}
	rxCorr := func(name string) float64 {
		if m, ok := HeraldModels[name]; ok {
			return float64(cal[m].RSSICorrection)
		}
		return 0
	}
	for _, m := range HeraldModels {
		if _, ok := cal[m]; !ok {
			return nil, fmt.Errorf("radiofit: model %s is not in %s", m, CalibrationFile)
		}
	}
	all := splitPositions(rows, txCal, rxCorr)
	f.Positions = len(all)
	var positions []position
	for _, p := range all {
		if p.d >= MinDistance {
			positions = append(positions, p)
		}
	}

	// Parameters: ref, n1, n2, then a TX offset per transmitter model and
	// an RX offset per receiver model.
	var txs, rxs []string
	for _, p := range positions {
		if !slices.Contains(txs, p.tx) {
			txs = append(txs, p.tx)
		}
		if !slices.Contains(rxs, p.rx) {
			rxs = append(rxs, p.rx)
		}
	}
	sort.Strings(txs)
	sort.Strings(rxs)
	for i := range positions {
		p := &positions[i]
		p.txi, p.rxi = 3+slices.Index(txs, p.tx), 3+len(txs)+slices.Index(rxs, p.rx)
	}
	fitCurve := func(bp, off float64) ([]float64, float64, error) {
		n := 3 + len(txs) + len(rxs)
		s := newNormal(n)
		idx, vals := make([]int, 5), make([]float64, 5)
		for _, p := range positions {
			e := p.d + off
			near, far := 10*math.Log10(min(e, bp)), 10*math.Log10(max(e, bp)/bp)
			idx[0], idx[1], idx[2], idx[3], idx[4] = 0, 1, 2, p.txi, p.rxi
			vals[0], vals[1], vals[2], vals[3], vals[4] = 1, near, far, 1, 1
			s.add(idx, vals, p.med, 1)
		}
		// Google's table is right on average over the Android models: their
		// mean offsets are zero. iPhones' offsets stay free (TX: that is
		// how their calibrated TX power is found).
		var ti, ri []int
		for i, m := range txs {
			if _, android := HeraldModels[m]; android {
				ti = append(ti, 3+i)
			}
		}
		for i, m := range rxs {
			if _, android := HeraldModels[m]; android {
				ri = append(ri, 3+len(txs)+i)
			}
		}
		s.add(ti, ones(len(ti)), 0, 1e4)
		s.add(ri, ones(len(ri)), 0, 1e4)
		beta, err := s.solve(1e-6)
		if err != nil {
			return nil, 0, err
		}
		sse := 0.0
		for _, p := range positions {
			r := p.med - predict(beta, p, bp, off)
			sse += r * r
		}
		return beta, math.Sqrt(sse / float64(len(positions))), nil
	}
	// One slope: the breakpoint beyond every position.
	_, oneSlope, err := fitCurve(100, 0)
	if err != nil {
		return nil, err
	}
	f.OneSlopeRMS = oneSlope
	best := math.Inf(1)
	var beta []float64
	for bp := 0.4; bp <= 3.0001; bp += 0.05 {
		b, r, err := fitCurve(bp, 0)
		if err != nil {
			return nil, err
		}
		if r < best {
			best, beta, f.Breakpoint = r, b, round(bp, 2)
		}
	}
	f.RMS = best
	f.RefAttenuation, f.NearExponent, f.MidExponent = beta[0], beta[1], beta[2]
	f.FarBreakpoint, f.FarExponent = 100, f.MidExponent // until MIT says otherwise

	// Device offsets; the iPhones' mean TX offset is their TX power.
	f.TxOffsets, f.RxOffsets = map[string]float64{}, map[string]float64{}
	var ios []float64
	for i, m := range txs {
		if _, android := HeraldModels[m]; !android {
			ios = append(ios, beta[3+i])
		}
	}
	// With a TX power of 0 in the attenuations above, an iPhone's TX offset
	// is its residual minus its calibrated TX power.
	for _, v := range ios {
		f.IOSTxPower -= v / float64(len(ios))
	}
	var txSq, rxSq float64
	for i, m := range txs {
		v := beta[3+i]
		if _, android := HeraldModels[m]; !android {
			v += f.IOSTxPower
		}
		f.TxOffsets[m] = v
		txSq += v * v
	}
	for i, m := range rxs {
		f.RxOffsets[m] = beta[3+len(txs)+i]
		rxSq += beta[3+len(txs)+i] * beta[3+len(txs)+i]
	}
	f.TxSpread, f.RxSpread = math.Sqrt(txSq/float64(len(txs))), math.Sqrt(rxSq/float64(len(rxs)))

	// Spreads, pooled and by distance; the picture's bands.
	var slow, fast []weighted
	const binWidth = 0.25
	for lo := MinDistance; lo < 3.5; lo += binWidth {
		f.Bins = append(f.Bins, Bin{Lo: lo, Hi: lo + binWidth})
	}
	type binData struct{ slow, fast, scans []weighted }
	bd := make([]binData, len(f.Bins))
	for _, p := range positions {
		pred := predict(beta, p, f.Breakpoint, f.DistanceOffset)
		offsets := beta[p.txi] + beta[p.rxi]
		r := p.med - pred
		slow = append(slow, weighted{r, 1})
		b := min(int((p.d-MinDistance)/binWidth), len(f.Bins)-1)
		bd[b].slow = append(bd[b].slow, weighted{r, 1})
		f.Bins[b].Positions++
		f.Bins[b].MeanResidual += r
		f.Bins[b].MeanDistance += p.d
		f.Bins[b].SamplesPerPoint += float64(len(p.dev))
		w := 1 / float64(len(p.dev))
		for _, dv := range p.dev {
			fast = append(fast, weighted{dv, w})
			bd[b].fast = append(bd[b].fast, weighted{dv, w})
			bd[b].scans = append(bd[b].scans, weighted{p.med - offsets + dv, w})
		}
	}
	f.SlowSigma, f.FastSigma = robustSigma(slow), robustSigma(fast)
	for i := range f.Bins {
		b := &f.Bins[i]
		if b.Positions == 0 {
			continue
		}
		n := float64(b.Positions)
		b.MeanResidual /= n
		b.MeanDistance /= n
		b.SamplesPerPoint /= n
		b.Slow, b.Fast = robustSigma(bd[i].slow), robustSigma(bd[i].fast)
		q := quantiles(bd[i].scans, 0.1, 0.5, 0.9)
		b.Q10, b.Q50, b.Q90 = q[0], q[1], q[2]
	}
	f.PositionsFitted = len(positions)
	if err := f.fitCarriage(dir); err != nil {
		return nil, err
	}
	return f, nil
}

func ones(n int) []float64 {
	o := make([]float64, n)
	for i := range o {
		o[i] = 1
	}
	return o
}

func predict(beta []float64, p position, bp, off float64) float64 {
	return PathLoss(p.d, beta[0], beta[1], beta[2], 0, bp, 100, off) + beta[p.txi] + beta[p.rxi]
}

// splitPositions cuts each file into its held positions (runs of one
// distance) and each position into 4-second scans. Each position becomes
// one data point, however long it was held: the last, rewound segment of
// some files lasts hours (data README, section 2) and would otherwise
// outweigh the whole sweep.
func splitPositions(rows []heraldRow, txCal, rxCorr func(string) float64) []position {
	var out []position
	var scans []float64
	flush := func(r heraldRow) {
		if len(scans) >= minWindows {
			m := median(slices.Clone(scans))
			dev := make([]float64, len(scans))
			for i, a := range scans {
				dev[i] = a - m
			}
			out = append(out, position{rx: r.rx, tx: r.tx, d: r.distance, med: m, dev: dev})
		}
		scans = scans[:0]
	}
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].file == rows[i].file && rows[j].distance == rows[i].distance {
			j++
		}
		r := rows[i]
		tx, corr := txCal(r.tx), rxCorr(r.rx)
		for k := i; k < j; {
			w, best := rows[k].t/scanSeconds, rows[k].rssi
			for k < j && rows[k].t/scanSeconds == w {
				best = max(best, rows[k].rssi)
				k++
			}
			scans = append(scans, tx-(float64(best)+corr))
		}
		flush(r)
		i = j
	}
	return out
}

// fitCarriage fits the carriage losses to MIT PACT, against Herald's curve.
func (f *Fit) fitCarriage(dir string) error {
	rows, dups, err := readMIT(dir)
	if err != nil {
		return err
	}
	f.MITRows, f.MITDuplicates = len(rows), dups
	type key struct {
		collection string
		cm, angle  int
	}
	type group struct {
		rxLoc, txLoc string
		d            float64
		windows      map[int64]int // strongest RSSI per 4-second scan
	}
	groups := map[key]*group{}
	var keys []key
	for _, r := range rows {
		k := key{r.collection, int(math.Round(r.distance * 100)), r.angle}
		g, ok := groups[k]
		if !ok {
			g = &group{rxLoc: r.rxLoc, txLoc: r.txLoc, d: r.distance, windows: map[int64]int{}}
			groups[k] = g
			keys = append(keys, k)
		}
		w := int64(math.Floor(r.t / scanSeconds))
		if old, ok := g.windows[w]; !ok || r.rssi > old {
			g.windows[w] = r.rssi
		}
	}
	// Each group's median attenuation, for an iPhone pair (RSSI
	// correction 0, TX power IOSTxPower).
	type point struct {
		k     key
		g     *group
		att   float64
		value float64 // excess over the curve, once it is fitted
	}
	var pts []point
	for _, k := range keys {
		g := groups[k]
		if len(g.windows) < minWindows/2 { // an angle is held ~15 s: 3–4 scans
			continue
		}
		var att []float64
		for _, rssi := range g.windows {
			att = append(att, f.IOSTxPower-float64(rssi))
		}
		pts = append(pts, point{k: k, g: g, att: median(att)})
	}
	f.MITGroups = len(pts)
	// The carriage losses and the far slope, beyond a far breakpoint past
	// Herald's range: the excess over Herald's curve (frozen at the far
	// breakpoint) is L(rx location) + L(tx location) + 10·n3·log10(d'/bp2).
	far := func(bp2 float64, withFar bool) ([]float64, float64, error) {
		n := len(Locations) + 1
		s := newNormal(n)
		for _, p := range pts {
			a, b := slices.Index(Locations, p.g.rxLoc), slices.Index(Locations, p.g.txLoc)
			if a < 0 || b < 0 {
				return nil, 0, fmt.Errorf("radiofit: unknown carriage %q or %q in %s", p.g.rxLoc, p.g.txLoc, p.k.collection)
			}
			y := p.att - PathLoss(p.g.d, f.RefAttenuation, f.NearExponent, f.MidExponent, 0, f.Breakpoint, bp2, f.DistanceOffset)
			x := 0.0
			if withFar {
				x = 10 * math.Log10(max(max(p.g.d, MinDistance)+f.DistanceOffset, bp2)/bp2)
			}
			if a == b {
				s.add([]int{a, n - 1}, []float64{2, x}, y, 1)
			} else {
				s.add([]int{a, b, n - 1}, []float64{1, 1, x}, y, 1)
			}
		}
		beta, err := s.solve(1e-6)
		if err != nil {
			return nil, 0, err
		}
		sse := 0.0
		for _, p := range pts {
			a, b := slices.Index(Locations, p.g.rxLoc), slices.Index(Locations, p.g.txLoc)
			x := 0.0
			if withFar {
				x = 10 * math.Log10(max(max(p.g.d, MinDistance)+f.DistanceOffset, bp2)/bp2)
			}
			r := p.att - PathLoss(p.g.d, f.RefAttenuation, f.NearExponent, f.MidExponent, 0, f.Breakpoint, bp2, f.DistanceOffset) - beta[a] - beta[b] - beta[n-1]*x
			sse += r * r
		}
		return beta, math.Sqrt(sse / float64(len(pts))), nil
	}
	_, without, err := far(100, false)
	if err != nil {
		return err
	}
	f.MITRMSWithoutFar = without
	// A far slope below zero (attenuation falling with distance) cannot go
	// on beyond the data: it is then held at zero, a plateau.
	var loss []float64
	best := math.Inf(1)
	for bp2 := 3.4; bp2 <= 4.5001; bp2 += 0.1 {
		b, r, err := far(bp2, true)
		if err != nil {
			return err
		}
		fitted := b[len(Locations)]
		if fitted < 0 {
			if b, r, err = far(bp2, false); err != nil {
				return err
			}
		}
		if r < best {
			best, loss, f.FarBreakpoint, f.FarExponentFitted = r, b, round(bp2, 2), fitted
		}
	}
	f.FarExponent = loss[len(Locations)]
	f.CarriageLoss = map[string]float64{}
	for i, l := range Locations {
		f.CarriageLoss[l] = loss[i]
	}
	for i := range pts {
		pts[i].value = pts[i].att - f.Median(pts[i].g.d)
	}
	model := func(g *group) float64 { return f.CarriageLoss[g.rxLoc] + f.CarriageLoss[g.txLoc] }
	var res, angle []weighted
	byDist := map[int][]float64{}
	type cd struct {
		c  string
		cm int
	}
	sums := map[cd][2]float64{}
	for _, p := range pts {
		r := p.value - model(p.g)
		res = append(res, weighted{r, 1})
		byDist[p.k.cm] = append(byDist[p.k.cm], r)
		s := sums[cd{p.k.collection, p.k.cm}]
		sums[cd{p.k.collection, p.k.cm}] = [2]float64{s[0] + p.value, s[1] + 1}
	}
	for _, p := range pts {
		s := sums[cd{p.k.collection, p.k.cm}]
		if s[1] >= 4 {
			angle = append(angle, weighted{p.value - s[0]/s[1], 1})
		}
	}
	f.CarriageRMS = rms(res)
	f.AngleSigma = robustSigma(angle)
	f.BodyAngleSigma = math.Sqrt(max(0, f.AngleSigma*f.AngleSigma-f.SlowSigma*f.SlowSigma))
	var cms []int
	for cm := range byDist {
		cms = append(cms, cm)
	}
	slices.Sort(cms)
	for _, cm := range cms {
		m := 0.0
		for _, r := range byDist[cm] {
			m += r / float64(len(byDist[cm]))
		}
		f.MITDistanceBias = append(f.MITDistanceBias, [2]float64{float64(cm) / 100, m})
	}
	byColl := map[string][]weighted{}
	var names []string
	for _, p := range pts {
		if _, ok := byColl[p.k.collection]; !ok {
			names = append(names, p.k.collection)
		}
		byColl[p.k.collection] = append(byColl[p.k.collection], weighted{p.value, 1})
	}
	sort.Strings(names)
	for _, n := range names {
		var g *group
		for _, p := range pts {
			if p.k.collection == n {
				g = p.g
				break
			}
		}
		q := quantiles(byColl[n], 0.1, 0.5, 0.9)
		f.Collections = append(f.Collections, Collection{Name: n, RxLoc: g.rxLoc, TxLoc: g.txLoc, Q10: q[0], Q50: q[1], Q90: q[2], Model: model(g)})
	}
	return nil
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// String prints the fitted parameters and residuals.
func (f *Fit) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Herald: %d rows, %d positions, %d of them at %.2f m or more fitted (each weighs the same; 4-second scans, strongest row)\n",
		f.HeraldRows, f.Positions, f.PositionsFitted, MinDistance)
	fmt.Fprintf(&b, "median attenuation A(d), d' = max(d, %.2f m): %.1f dB at 1 m, exponent %.2f to %.2f m, %.2f to %.2f m, %.2f beyond (fitted %.2f)\n",
		MinDistance, f.RefAttenuation, f.NearExponent, f.Breakpoint, f.MidExponent, f.FarBreakpoint, f.FarExponent, f.FarExponentFitted)
	fmt.Fprintf(&b, "  residual RMS of position medians: two slopes %.2f dB, one slope %.2f dB\n", f.RMS, f.OneSlopeRMS)
	fmt.Fprintf(&b, "  A(0.5 m) %.1f, A(1 m) %.1f, A(2 m) %.1f, A(3 m) %.1f, A(5 m) %.1f, A(10 m) %.1f dB\n",
		f.Median(0.5), f.Median(1), f.Median(2), f.Median(3), f.Median(5), f.Median(10))
	fmt.Fprintf(&b, "spread: per encounter (position) σ %.2f dB, per scan σ %.2f dB\n", f.SlowSigma, f.FastSigma)
	fmt.Fprintf(&b, "  %-11s %9s %7s %7s %7s %7s %7s %7s\n", "distance", "positions", "q10", "q50", "q90", "slow σ", "fast σ", "bias")
	for _, bn := range f.Bins {
		if bn.Positions == 0 {
			continue
		}
		fmt.Fprintf(&b, "  %4.2f–%4.2f m %9d %7.1f %7.1f %7.1f %7.2f %7.2f %+7.2f\n", bn.Lo, bn.Hi, bn.Positions, bn.Q10, bn.Q50, bn.Q90, bn.Slow, bn.Fast, bn.MeanResidual)
	}
	fmt.Fprintf(&b, "iPhone calibrated TX power (fitted, RSSI correction 0): %.1f dBm\n", f.IOSTxPower)
	fmt.Fprintf(&b, "residual device offsets after calibration (dB; RMS TX %.2f, RX %.2f):\n", f.TxSpread, f.RxSpread)
	var models []string
	for m := range f.TxOffsets {
		models = append(models, m)
	}
	for m := range f.RxOffsets {
		if _, ok := f.TxOffsets[m]; !ok {
			models = append(models, m)
		}
	}
	sort.Strings(models)
	for _, m := range models {
		tx, rx := "—", "—"
		if v, ok := f.TxOffsets[m]; ok {
			tx = fmt.Sprintf("%+.1f", v)
		}
		if v, ok := f.RxOffsets[m]; ok {
			rx = fmt.Sprintf("%+.1f", v)
		}
		fmt.Fprintf(&b, "  %-20s TX %6s  RX %6s\n", m, tx, rx)
	}
	fmt.Fprintf(&b, "MIT PACT: %d rows after dropping %d duplicates, %d (collection, distance, angle) medians\n", f.MITRows, f.MITDuplicates, f.MITGroups)
	fmt.Fprintf(&b, "carriage loss per phone vs Herald's line of sight (dB):")
	for _, l := range Locations {
		fmt.Fprintf(&b, " %s %.1f", l, f.CarriageLoss[l])
	}
	fmt.Fprintf(&b, "\n  residual RMS %.2f dB (%.2f dB without the far slope); body angle σ %.2f dB (beyond Herald's per-encounter σ: %.2f dB)\n", f.CarriageRMS, f.MITRMSWithoutFar, f.AngleSigma, f.BodyAngleSigma)
	fmt.Fprintf(&b, "  mean residual by MIT distance:")
	for _, db := range f.MITDistanceBias {
		fmt.Fprintf(&b, " %.2f m %+.1f", db[0], db[1])
	}
	fmt.Fprintln(&b)
	for _, c := range f.Collections {
		fmt.Fprintf(&b, "  %-38s data q10 %5.1f q50 %5.1f q90 %5.1f, model %5.1f\n", c.Name, c.Q10, c.Q50, c.Q90, c.Model)
	}
	return b.String()
}
