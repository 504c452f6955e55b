package radiofit

import (
	"errors"
	"math"
	"slices"
)

// weighted is a value with a weight, for quantiles where each position of
// a sweep counts once however many rows it holds.
type weighted struct{ v, w float64 }

// quantiles returns the weighted quantiles qs of xs (which it sorts).
func quantiles(xs []weighted, qs ...float64) []float64 {
	out := make([]float64, len(qs))
	if len(xs) == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	slices.SortFunc(xs, func(a, b weighted) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	total := 0.0
	for _, x := range xs {
		total += x.w
	}
	for i, q := range qs {
		target, acc := q*total, 0.0
		out[i] = xs[len(xs)-1].v
		for _, x := range xs {
			acc += x.w
			if acc >= target {
				out[i] = x.v
				break
			}
		}
	}
	return out
}

// median of plain values (it sorts xs).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// z90 is the standard normal's 90 % quantile: a normal spread σ puts its
// 10–90 % range at ±z90·σ.
const z90 = 1.2815515655446004

// robustSigma is the standard deviation a normal distribution with the same
// 10–90 % range would have: it ignores the tails that a few bad positions
// produce.
func robustSigma(xs []weighted) float64 {
	q := quantiles(xs, 0.1, 0.9)
	return (q[1] - q[0]) / (2 * z90)
}

// rms is the root mean square of weighted values.
func rms(xs []weighted) float64 {
	s, w := 0.0, 0.0
	for _, x := range xs {
		s += x.w * x.v * x.v
		w += x.w
	}
	return math.Sqrt(s / w)
}

// normal accumulates weighted least squares X'WX β = X'Wy for sparse rows.
type normal struct {
	n   int
	xtx []float64 // n×n
	xty []float64
}

func newNormal(n int) *normal {
	return &normal{n: n, xtx: make([]float64, n*n), xty: make([]float64, n)}
}

// add adds the row Σ vals[k]·β[idx[k]] = y with weight w.
func (s *normal) add(idx []int, vals []float64, y, w float64) {
	for a, i := range idx {
		s.xty[i] += w * vals[a] * y
		for b, j := range idx {
			s.xtx[i*s.n+j] += w * vals[a] * vals[b]
		}
	}
}

// solve returns β, with a small ridge so that parameters the data do not
// pin down stay at zero instead of making the system singular.
func (s *normal) solve(ridge float64) ([]float64, error) {
	n := s.n
	a := make([]float64, n*(n+1))
	for i := range n {
		copy(a[i*(n+1):], s.xtx[i*n:(i+1)*n])
		a[i*(n+1)+i] += ridge
		a[i*(n+1)+n] = s.xty[i]
	}
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(a[r*(n+1)+c]) > math.Abs(a[p*(n+1)+c]) {
				p = r
			}
		}
		if math.Abs(a[p*(n+1)+c]) < 1e-12 {
			return nil, errors.New("radiofit: singular least-squares system")
		}
		for k := 0; k <= n; k++ {
			a[c*(n+1)+k], a[p*(n+1)+k] = a[p*(n+1)+k], a[c*(n+1)+k]
		}
		for r := range n {
			if r == c {
				continue
			}
			f := a[r*(n+1)+c] / a[c*(n+1)+c]
			for k := c; k <= n; k++ {
				a[r*(n+1)+k] -= f * a[c*(n+1)+k]
			}
		}
	}
	out := make([]float64, n)
	for i := range n {
		out[i] = a[i*(n+1)+n] / a[i*(n+1)+i]
	}
	return out, nil
}
