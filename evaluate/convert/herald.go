package convert

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
)

type heraldRow struct {
	t    int64
	rssi int16
	cm   int32
}

type direction struct {
	test, rx, tx string
}

// Herald converts the Herald distance sweeps (path, CSV or .csv.gz with
// session,receiver_model,transmitter_model,time_unix_s,rssi_dbm,distance_m)
// into sessions of one position each; see the package documentation.
func Herald(path string, out io.Writer, o Options) (Stats, error) {
	o.defaults()
	cr, col, closeFn, err := openCSV(path)
	if err != nil {
		return Stats{}, err
	}
	defer closeFn()
	if err := need(path, col, "session", "receiver_model", "transmitter_model", "time_unix_s", "rssi_dbm", "distance_m"); err != nil {
		return Stats{}, err
	}
	dirs := map[direction][]heraldRow{}
	var order []direction
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Stats{}, fmt.Errorf("%s: %w", path, err)
		}
		d := direction{rec[col["session"]], rec[col["receiver_model"]], rec[col["transmitter_model"]]}
		t, err1 := strconv.ParseInt(rec[col["time_unix_s"]], 10, 64)
		rssi, err2 := strconv.Atoi(rec[col["rssi_dbm"]])
		m, err3 := strconv.ParseFloat(rec[col["distance_m"]], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return Stats{}, fmt.Errorf("%s:%d: bad time, rssi or distance", path, line)
		}
		if _, ok := dirs[d]; !ok {
			order = append(order, d)
		}
		dirs[d] = append(dirs[d], heraldRow{t, int16(rssi), int32(math.Round(m * 100))})
	}
	w := newWriter(out)
	for _, d := range order {
		rows := dirs[d]
		slices.SortStableFunc(rows, func(a, b heraldRow) int { return int(a.t - b.t) })
		txPower, err := o.txPower(d.tx)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: test %s: %w", path, d.test, err)
		}
		if _, err := o.txPower(d.rx); err != nil {
			return Stats{}, fmt.Errorf("%s: test %s: %w", path, d.test, err)
		}
		sc := o.scanner("herald/" + d.test + "/" + d.rx)
		seen := map[int32]int{}
		session := ""
		for i, r := range rows {
			if i == 0 || r.cm != rows[i-1].cm {
				seen[r.cm]++
				session = fmt.Sprintf("herald/%s/%03dcm#%d", d.test, r.cm, seen[r.cm])
			}
			w.row(session, d.rx, d.rx, d.tx, d.tx, float64(r.t), int(r.rssi), txPower, float64(r.cm)/100, sc.scanned(float64(r.t)), 0)
		}
	}
	return Stats{Sessions: len(w.sessions), Rows: w.rows}, w.flush()
}
