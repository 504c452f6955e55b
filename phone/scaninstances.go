package phone

import (
	"slices"
	"sort"
)

// scanInstances are the phone's scans in time order, as EN counts them: each
// scan stands for the time since the phone's previous scan (risk caps it),
// so a contact heard in 7 scans 5 minutes apart counts 35 minutes, not 7
// times a configured scan period. The operating system decides when a phone
// scans (Android EN: a few seconds every ~5 minutes; iOS in the background:
// irregularly), so nothing here assumes a period.
type scanInstances struct {
	start []int64 // Unix seconds, ascending
	gap   []int64 // seconds since the previous scan
}

// buildScanInstances merges the scans the engine recorded with the times of
// the samples it heard: a sample is evidence of a scan even when the scan's
// own record was lost (a crash before it was written, or a log written
// before scans were recorded). Times within mergeGap of a scan's first time
// belong to that scan.
func buildScanInstances(recorded []int64, sightings []Sighting) *scanInstances {
	times := slices.Clone(recorded)
	for i := range sightings {
		s := &sightings[i]
		for j := range s.Samples {
			times = append(times, s.SampleTime(j))
		}
	}
	slices.Sort(times)
	si := &scanInstances{}
	for _, t := range times {
		if n := len(si.start); n > 0 && t-si.start[n-1] <= mergeGap {
			continue
		}
		if n := len(si.start); n > 0 {
			si.gap = append(si.gap, t-si.start[n-1])
		} else {
			si.gap = append(si.gap, 0) // set below
		}
		si.start = append(si.start, t)
	}
	if len(si.gap) > 0 {
		si.gap[0] = si.firstGap()
	}
	return si
}

// firstGap is what the oldest scan stands for, whose predecessor is unknown:
// the phone's median time between scans, or (with a single scan) an hour,
// which the risk configuration caps like any long gap.
func (si *scanInstances) firstGap() int64 {
	if len(si.gap) < 2 {
		return 3600
	}
	g := slices.Clone(si.gap[1:])
	slices.Sort(g)
	return g[len(g)/2]
}

// at returns the scan that time t belongs to (its index) and the seconds it
// stands for; ok is false when t falls in no known scan.
func (si *scanInstances) at(t int64) (i int, seconds int64, ok bool) {
	i = sort.Search(len(si.start), func(k int) bool { return si.start[k] > t }) - 1
	if i < 0 || t-si.start[i] > mergeGap {
		return 0, 0, false
	}
	return i, si.gap[i], true
}

// len returns the number of scans.
func (si *scanInstances) len() int { return len(si.start) }
