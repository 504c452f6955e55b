package convert

import (
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// MITDurations are the lengths, in minutes, of the synthetic MIT sessions.
var MITDurations = []int{5, 10, 13, 17, 20, 30}

const (
	// mitDuplicate (s): a reading with the previous reading's RSSI within
	// this long is the same packet logged twice.
	mitDuplicate = 0.005
	// mitJoin (s): gaps longer than this are closed to mitJoinGap when the
	// readings are joined: the gaps between logs of one distance, and the
	// BlueProx app's own pauses (about 5.5 s after every ~10 s of readings),
	// so that an emulated EN scan window never falls into a pause of the
	// source app and misses a scan the EN phone would have made.
	mitJoin, mitJoinGap = 1.0, 0.1
)

type mitReading struct {
	t    float64
	rssi int16
}

type mitKey struct {
	collection string
	distance   string // as written in the source, metres
}

type mitGroup struct {
	rxModel, txModel string
	readings         []mitReading
}

// MIT converts the MIT PACT carriage logs (path, CSV or .csv.gz with
// collection,receiver_model,transmitter_model,time_unix_s,rssi_dbm,distance_m)
// into synthetic sessions; see the package documentation.
func MIT(path string, out io.Writer, o Options) (Stats, error) {
	o.defaults()
	cr, col, closeFn, err := openCSV(path)
	if err != nil {
		return Stats{}, err
	}
	defer closeFn()
	if err := need(path, col, "collection", "receiver_model", "transmitter_model", "time_unix_s", "rssi_dbm", "distance_m"); err != nil {
		return Stats{}, err
	}
	groups := map[mitKey]*mitGroup{}
	var order []mitKey
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Stats{}, fmt.Errorf("%s: %w", path, err)
		}
		k := mitKey{rec[col["collection"]], rec[col["distance_m"]]}
		t, err1 := strconv.ParseFloat(rec[col["time_unix_s"]], 64)
		rssi, err2 := strconv.Atoi(rec[col["rssi_dbm"]])
		if err1 != nil || err2 != nil {
			return Stats{}, fmt.Errorf("%s:%d: bad time or rssi", path, line)
		}
		g := groups[k]
		if g == nil {
			g = &mitGroup{rxModel: rec[col["receiver_model"]], txModel: rec[col["transmitter_model"]]}
			groups[k] = g
			order = append(order, k)
		}
		g.readings = append(g.readings, mitReading{t, int16(rssi)})
	}
	w := newWriter(out)
	for _, k := range order {
		g := groups[k]
		dist, err := strconv.ParseFloat(k.distance, 64)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: collection %s: distance %q", path, k.collection, k.distance)
		}
		txPower, err := o.txPower(g.txModel)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: collection %s: %w", path, k.collection, err)
		}
		rel := joinReadings(g.readings)
		if len(rel) < 2 {
			continue
		}
		span := rel[len(rel)-1].t + (rel[len(rel)-1].t-rel[0].t)/float64(len(rel)-1) // period of the tiling
		t0 := math.Floor(g.readings[0].t)
		ft := int(math.Round(dist / 0.3048))
		for _, minutes := range MITDurations {
			session := fmt.Sprintf("mit-synthetic/%s/%02dft/%02dmin", k.collection, ft, minutes)
			h := fnv.New64a()
			io.WriteString(h, session)
			start := rand.New(rand.NewPCG(o.Seed, h.Sum64())).IntN(len(rel)) // random first reading
			sc := o.scanner(session)
			dur := float64(minutes * 60)
			offset := rel[start].t
			for i := start; ; i++ {
				r := rel[i%len(rel)]
				t := r.t + float64(i/len(rel))*span - offset
				if t >= dur {
					break
				}
				at := t0 + t
				w.row(session, "rx", g.rxModel, "tx", g.txModel, at, int(r.rssi), txPower, dist, sc.scanned(at), 3)
			}
		}
	}
	return Stats{Sessions: len(w.sessions), Rows: w.rows}, w.flush()
}

// joinReadings sorts readings, drops duplicated packets and returns them
// with times relative to the first, long gaps (between logs) closed.
func joinReadings(in []mitReading) []mitReading {
	rs := slices.Clone(in)
	slices.SortStableFunc(rs, func(a, b mitReading) int {
		switch {
		case a.t < b.t:
			return -1
		case a.t > b.t:
			return 1
		}
		return 0
	})
	var out []mitReading
	var prev mitReading
	shift := 0.0
	for i, r := range rs {
		if i > 0 && r.rssi == prev.rssi && r.t-prev.t <= mitDuplicate {
			continue
		}
		if i > 0 && r.t-prev.t > mitJoin {
			shift += r.t - prev.t - mitJoinGap
		}
		prev = r
		if len(out) == 0 {
			shift = r.t
		}
		out = append(out, mitReading{r.t - shift, r.rssi})
	}
	return out
}
