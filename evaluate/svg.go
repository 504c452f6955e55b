package evaluate

import (
	"bufio"
	"fmt"
	"html"
	"io"
)

// WriteCurveSVG draws a precision-recall curve (recall on x, precision on
// y, both 0..1) with the operating point op marked as a red circle and
// labelled with its threshold.
func WriteCurveSVG(w io.Writer, title string, curve []CurvePoint, op Counts, opThreshold float64) error {
	const (
		width, height = 640, 480
		left, right   = 70, 30
		top, bottom   = 50, 60
		pw, ph        = width - left - right, height - top - bottom
	)
	x := func(r float64) float64 { return left + r*pw }
	y := func(p float64) float64 { return top + (1-p)*ph }
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(bw, `<text x="%d" y="25" font-size="15" text-anchor="middle">%s</text>`+"\n", width/2, html.EscapeString(title))
	for i := 0; i <= 10; i++ {
		v := float64(i) / 10
		fmt.Fprintf(bw, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x(v), top, x(v), top+ph)
		fmt.Fprintf(bw, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(v), left+pw, y(v))
		fmt.Fprintf(bw, `<text x="%.1f" y="%d" text-anchor="middle">%.1f</text>`+"\n", x(v), top+ph+18, v)
		fmt.Fprintf(bw, `<text x="%d" y="%.1f" text-anchor="end">%.1f</text>`+"\n", left-8, y(v)+4, v)
	}
	fmt.Fprintf(bw, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>`+"\n", left, top, pw, ph)
	fmt.Fprintf(bw, `<text x="%d" y="%d" text-anchor="middle">recall</text>`+"\n", left+pw/2, height-15)
	fmt.Fprintf(bw, `<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">precision</text>`+"\n", top+ph/2, top+ph/2)
	if len(curve) > 0 {
		fmt.Fprint(bw, `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="`)
		// Start at recall 0 with the first point's precision, as PR curves are drawn.
		fmt.Fprintf(bw, "%.1f,%.1f", x(0), y(curve[0].Precision))
		for _, p := range curve {
			fmt.Fprintf(bw, " %.1f,%.1f", x(p.Recall), y(p.Precision))
		}
		fmt.Fprintln(bw, `"/>`)
		for _, p := range curve {
			fmt.Fprintf(bw, `<circle cx="%.1f" cy="%.1f" r="2" fill="#1f77b4"><title>threshold %.2f min: precision %.3f, recall %.3f</title></circle>`+"\n",
				x(p.Recall), y(p.Precision), p.Threshold, p.Precision, p.Recall)
		}
	} else {
		fmt.Fprintf(bw, `<text x="%d" y="%d" text-anchor="middle">no pair-day with ground truth was scored</text>`+"\n", left+pw/2, top+ph/2)
	}
	ox, oy := x(op.Recall()), y(op.Precision())
	fmt.Fprintf(bw, `<circle cx="%.1f" cy="%.1f" r="6" fill="none" stroke="red" stroke-width="2"/>`+"\n", ox, oy)
	fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" fill="red">operating point: %.4g min (P %.3f, R %.3f, F1 %.3f)</text>`+"\n",
		min(ox+10, float64(width-330)), max(oy-10, float64(top+14)), opThreshold, op.Precision(), op.Recall(), op.F1())
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}
