package radiofit

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strings"
)

// Model is what the picture compares the data with: the simulator's
// compiled radio model.
type Model struct {
	Median func(d float64) float64 // median attenuation at d metres, line of sight (dB)
	// Sigma is the spread of one scan's attenuation in line of sight, for
	// one pair of phones (dB).
	Sigma float64
	// Carriage is the extra attenuation of a pair carried at two MIT
	// locations (dB).
	Carriage func(rxLoc, txLoc string) float64
}

// WriteSVG draws the fit: Herald's attenuation by distance (medians and
// 10–90 % bands of 4-second scans, device offsets removed, each position
// weighing the same) against the model's; and MIT's carriage collections
// (excess over the line-of-sight curve) against the model's losses.
func WriteSVG(w io.Writer, f *Fit, m Model) error {
	bw := bufio.NewWriter(w)
	const (
		width      = 960
		left       = 70
		plotW      = 560
		top1       = 40
		plotH1     = 300
		top2       = top1 + plotH1 + 90
		rowH       = 22
		legendLeft = left + plotW + 20
	)
	rows := len(f.Collections)
	height := top2 + rows*rowH + 60
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")

	// Panel 1: attenuation by distance.
	const dMin, dMax, aMin, aMax = 0.0, 3.5, 20.0, 70.0
	x := func(d float64) float64 { return left + (d-dMin)/(dMax-dMin)*plotW }
	y := func(a float64) float64 { return top1 + (aMax-a)/(aMax-aMin)*plotH1 }
	p(`<text x="%d" y="%d" font-size="14" font-weight="bold">Attenuation by distance, line of sight (Herald, %d positions)</text>`+"\n", left, top1-18, f.PositionsFitted)
	axes(bw, left, top1, plotW, plotH1)
	for d := 0.0; d <= dMax+1e-9; d += 0.5 {
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%.1f</text>`+"\n", x(d), top1, x(d), top1+plotH1, x(d), top1+plotH1+16, d)
	}
	for a := aMin; a <= aMax+1e-9; a += 10 {
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%.0f</text>`+"\n", left, y(a), left+plotW, y(a), left-6, y(a)+4, a)
	}
	p(`<text x="%d" y="%d" text-anchor="middle">distance between the phones' cases (m)</text>`+"\n", left+plotW/2, top1+plotH1+34)
	p(`<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">attenuation (dB)</text>`+"\n", top1+plotH1/2, top1+plotH1/2)
	// Data band and medians.
	var upper, lower []string
	for _, b := range f.Bins {
		if b.Positions == 0 {
			continue
		}
		c := (b.Lo + b.Hi) / 2
		upper = append(upper, fmt.Sprintf("%.1f,%.1f", x(c), y(b.Q90)))
		lower = append([]string{fmt.Sprintf("%.1f,%.1f", x(c), y(b.Q10))}, lower...)
	}
	p(`<polygon points="%s" fill="#9ecae1" fill-opacity="0.5" stroke="none"/>`+"\n", strings.Join(append(upper, lower...), " "))
	for _, b := range f.Bins {
		if b.Positions == 0 {
			continue
		}
		c := (b.Lo + b.Hi) / 2
		p(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="#08519c"><title>%.2f–%.2f m: %d positions, median %.1f dB, 10–90 %% %.1f–%.1f dB</title></circle>`+"\n",
			x(c), y(b.Q50), b.Lo, b.Hi, b.Positions, b.Q50, b.Q10, b.Q90)
	}
	// Model median and band.
	var med, hi, lo []string
	for d := MinDistance; d <= dMax+1e-9; d += 0.05 {
		a := m.Median(d)
		med = append(med, fmt.Sprintf("%.1f,%.1f", x(d), y(a)))
		hi = append(hi, fmt.Sprintf("%.1f,%.1f", x(d), y(a+z90*m.Sigma)))
		lo = append(lo, fmt.Sprintf("%.1f,%.1f", x(d), y(a-z90*m.Sigma)))
	}
	p(`<polyline points="%s" fill="none" stroke="#d94801" stroke-width="2"/>`+"\n", strings.Join(med, " "))
	p(`<polyline points="%s" fill="none" stroke="#d94801" stroke-dasharray="5,4"/>`+"\n", strings.Join(hi, " "))
	p(`<polyline points="%s" fill="none" stroke="#d94801" stroke-dasharray="5,4"/>`+"\n", strings.Join(lo, " "))
	legend := []struct{ swatch, text string }{
		{`<circle cx="8" cy="-4" r="3.5" fill="#08519c"/>`, "data: median of scans"},
		{`<rect x="0" y="-10" width="16" height="10" fill="#9ecae1" fill-opacity="0.5"/>`, "data: 10–90 % of scans"},
		{`<line x1="0" y1="-4" x2="16" y2="-4" stroke="#d94801" stroke-width="2"/>`, "model: median"},
		{`<line x1="0" y1="-4" x2="16" y2="-4" stroke="#d94801" stroke-dasharray="5,4"/>`, "model: 10–90 %"},
	}
	for i, l := range legend {
		p(`<g transform="translate(%d %d)">%s<text x="22" y="0">%s</text></g>`+"\n", legendLeft, top1+16+i*20, l.swatch, html.EscapeString(l.text))
	}
	notes := []string{
		"4-second scans (strongest report),",
		"Google's calibration, each model's",
		"fitted offset removed;",
		fmt.Sprintf("two slopes: %.2f dB RMS,", f.RMS),
		fmt.Sprintf("one slope: %.2f dB RMS", f.OneSlopeRMS),
		fmt.Sprintf("(position medians, %.2f m and up).", MinDistance),
		fmt.Sprintf("Beyond %.1f m (MIT): plateau.", f.FarBreakpoint),
	}
	for i, n := range notes {
		p(`<text x="%d" y="%d" fill="#444">%s</text>`+"\n", legendLeft, top1+110+i*16, html.EscapeString(n))
	}

	// Panel 2: carriage.
	const eMin, eMax = -10.0, 40.0
	ex := func(e float64) float64 { return left + 190 + (e-eMin)/(eMax-eMin)*(plotW-190) }
	p(`<text x="%d" y="%d" font-size="14" font-weight="bold">Carriage: excess over line of sight (MIT PACT, receiver / transmitter)</text>`+"\n", left, top2-28)
	for e := eMin; e <= eMax+1e-9; e += 10 {
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/><text x="%.1f" y="%d" text-anchor="middle">%.0f</text>`+"\n", ex(e), top2-10, ex(e), top2+rows*rowH, ex(e), top2+rows*rowH+16, e)
	}
	p(`<text x="%.1f" y="%d" text-anchor="middle">dB over the line-of-sight median at the same distance</text>`+"\n", ex((eMin+eMax)/2), top2+rows*rowH+34)
	for i, c := range f.Collections {
		cy := float64(top2 + i*rowH)
		p(`<text x="%d" y="%.1f" text-anchor="end">%s / %s</text>`+"\n", left+184, cy+4, html.EscapeString(short(c.RxLoc)), html.EscapeString(short(c.TxLoc)))
		p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#9ecae1" stroke-width="8"><title>%s: 10–90 %% %.1f–%.1f dB</title></line>`+"\n", ex(c.Q10), cy, ex(c.Q90), cy, html.EscapeString(c.Name), c.Q10, c.Q90)
		p(`<circle cx="%.1f" cy="%.1f" r="3.5" fill="#08519c"/>`+"\n", ex(c.Q50), cy)
		mv := m.Carriage(c.RxLoc, c.TxLoc)
		p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d94801" stroke-width="2.5"><title>model %.1f dB</title></line>`+"\n", ex(mv), cy-8, ex(mv), cy+8, mv)
	}
	cnotes := []string{
		"dot, bar: median and 10–90 % of",
		"(distance, body angle) medians;",
		"orange: model (both phones' loss).",
		fmt.Sprintf("Residual %.1f dB RMS: each", f.CarriageRMS),
		"collection has its own room",
		"and phones.",
	}
	for i, n := range cnotes {
		p(`<text x="%d" y="%d" fill="#444">%s</text>`+"\n", legendLeft, top2+4+i*16, html.EscapeString(n))
	}
	p("</svg>\n")
	return bw.Flush()
}

func axes(w io.Writer, left, top, width, height int) {
	fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`+"\n", left, top, width, height)
}

// short names a MIT location for the picture.
func short(loc string) string {
	switch loc {
	case "shirt_pocket":
		return "shirt pocket"
	case "front_pants_pocket":
		return "front trouser pocket"
	case "back_pants_pocket":
		return "back trouser pocket"
	case "purse":
		return "bag"
	}
	return loc
}
