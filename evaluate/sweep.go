package evaluate

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/bluezone-vn/bluezone/risk"
)

// The sweep grid, around the base configuration (9 × 5 × 5 = 225 candidates):
//   - attenuation thresholds: the base thresholds shifted by -8 to +8 dB in
//     steps of 2;
//   - bucket weights (Immediate, Near, Medium, Other): the base weights,
//     {1, 1, 0, 0} (only up to Near counts), {1, 0.5, 0.25, 0} (graded),
//     {1, 0.5, 0, 0} and {1, 1, 0.5, 0};
//   - minutes threshold: 10, 12.5, 15, 17.5 and 20 weighted minutes.
//
// The candidates differ from the base only in how exposure windows are
// weighed, so the data are replayed once and every candidate scores the same
// windows, as a phone does when a new configuration arrives.
var (
	sweepShifts  = []int{-8, -6, -4, -2, 0, 2, 4, 6, 8}
	sweepWeights = [][4]float64{{}, {1, 1, 0, 0}, {1, 0.5, 0.25, 0}, {1, 0.5, 0, 0}, {1, 1, 0.5, 0}} // {} is the base weights
	sweepMinutes = []float64{10, 12.5, 15, 17.5, 20}
)

// SweepResult is one candidate configuration and how it did.
type SweepResult struct {
	Config risk.Config
	Counts Counts
}

// SweepCandidates returns the grid's configurations, base first.
func SweepCandidates(base risk.Config) []risk.Config {
	var out []risk.Config
	for _, sh := range sweepShifts {
		for _, w := range sweepWeights {
			for _, m := range sweepMinutes {
				c := base // the calibration map is shared, never written
				for i := range c.AttenuationThresholds {
					c.AttenuationThresholds[i] = base.AttenuationThresholds[i] + sh
				}
				if w != ([4]float64{}) {
					c.BucketWeights = w
				}
				c.MinutesThreshold = m
				out = append(out, c)
			}
		}
	}
	return out
}

// Sweep replays d once with the base configuration, scores its exposure
// windows under every candidate of the grid and returns the results, best F1
// first (ties: higher precision, then grid order).
func Sweep(ctx context.Context, d *Dataset, base risk.Config, t Truth, opt Options, progress io.Writer) ([]SweepResult, error) {
	cands := SweepCandidates(base)
	o := opt
	o.Config = base
	o.Label = "sweep: "
	xs, err := Replay(ctx, d, o)
	if err != nil {
		return nil, err
	}
	var out []SweepResult
	for i, c := range cands {
		if progress != nil && i%25 == 0 {
			fmt.Fprintf(progress, "sweep %d/%d: %s\n", i+1, len(cands), Describe(c))
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out = append(out, SweepResult{Config: c, Counts: Count(Decisions(d, xs, c, t))})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Counts, out[j].Counts
		if a.F1() != b.F1() {
			return a.F1() > b.F1()
		}
		return a.Precision() > b.Precision()
	})
	return out, nil
}

// Describe formats the swept fields of a configuration on one line.
func Describe(c risk.Config) string {
	t, w := c.AttenuationThresholds, c.BucketWeights
	return fmt.Sprintf("thresholds_db=%d,%d,%d weights=%g,%g,%g,%g minutes=%g", t[0], t[1], t[2], w[0], w[1], w[2], w[3], c.MinutesThreshold)
}
