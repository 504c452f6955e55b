package sim

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// Authority is the health authority's side: the real server, reached by the
// simulator through its own API (cmd/bluezone wires it).
type Authority interface {
	// IssueCode gives a confirmed person a one-time code, at sim time now.
	IssueCode(ctx context.Context, rt export.ReportType, date, now time.Time) (string, error)
	// Export runs the export worker at sim time now.
	Export(ctx context.Context, now time.Time) error
	// URL is the server's base URL for phones.
	URL() string
	// PublicKeyPEM is the export key phones pin.
	PublicKeyPEM() []byte
	// Stats reports the server's side of the run.
	Stats(ctx context.Context) (ServerStats, error)
}

// ServerStats is what the server did during a run.
type ServerStats struct {
	ExportFiles int   `json:"export_files"`
	ExportBytes int64 `json:"export_bytes"`
	KeysInFiles int   `json:"real_keys_in_exports"`
}

// Power model of the battery estimate, stated so it can be argued with.
const (
	batteryWh        = 11.55 // 3000 mAh at 3.85 V
	advertisingMW    = 5.0   // BLE advertising while on
	scanningMW       = 15.0  // BLE scanning while on
	cpuActiveW       = 1.0   // one core busy matching or syncing
	advertiseOnShare = 15.0 / 30
	scanOnShare      = 35.0 / 120
)

// Radio model: log-distance path loss with shadowing and body loss.
const (
	refLossDB    = 40.0 // path loss at 1 m, 2.4 GHz
	pathLossExp  = 2.2  // indoor with people around
	shadowSigma  = 4.0  // dB
	sensitivity  = -100 // dBm: weaker is not heard
	hearingRange = 10.0 // m: pairs farther apart are not evaluated
	scansPerSlot = 5    // one scan every 2 minutes in a 10-minute slot
	closeDist    = 2.0  // m, ground-truth close contact
	closeMinutes = 15   // per day, ground truth
	slotMinutes  = 10
)

// Result holds every figure a run measures.
type Result struct {
	Config       Config  `json:"-"`
	People       int     `json:"people"`
	AppUsers     int     `json:"app_users"`
	Days         int     `json:"days"`
	Infections   int     `json:"infections"`
	Confirmed    int     `json:"confirmed"`
	Uploads      int     `json:"uploads"`
	TrueContacts int     `json:"true_close_contacts_of_uploaders_with_app"`
	WarnedF1     int     `json:"warned_f1"`
	TruePositive int     `json:"true_positive_f1"`
	Precision    float64 `json:"precision_f1"`
	Recall       float64 `json:"recall_f1"`

	// F2: confirmed F1s publish with a RECURSIVE code; their contacts are warned F2.
	ConfirmedF1    int           `json:"confirmed_f1"`
	UploadsF1      int           `json:"uploads_f1"`
	TrueContactsF2 int           `json:"true_close_contacts_of_f1_uploaders_with_app"`
	WarnedF2       int           `json:"warned_f2"`
	TruePositiveF2 int           `json:"true_positive_f2"`
	PrecisionF2    float64       `json:"precision_f2"`
	RecallF2       float64       `json:"recall_f2"`
	MeanDelay      float64       `json:"mean_days_confirmation_to_warning"`
	Sightings      int64         `json:"sightings_handled"`
	StoredBytes    int64         `json:"stored_bytes_per_phone_mean"`
	Wall           time.Duration `json:"-"`
	WallSeconds    float64       `json:"wall_seconds"`
	DailyNew       []int         `json:"daily_new_infections"`
	DailyWarned    []int         `json:"daily_new_f1_warnings"`

	// The same city and seed without the app (nobody warned, nobody quarantined).
	InfectionsWithoutApp int   `json:"infections_without_app"`
	DailyNewWithoutApp   []int `json:"daily_new_infections_without_app"`

	// Per phone per day.
	DownloadBytesPerDay float64 `json:"download_bytes_per_phone_day"`
	SyncMillisPerDay    float64 `json:"sync_and_match_ms_per_phone_day"`
	StoredBytesPerDay   float64 `json:"stored_bytes_per_phone_day"`
	BatteryPercentDay   float64 `json:"battery_percent_per_phone_day"`
	PowerModel          string  `json:"battery_power_model"`

	Server ServerStats `json:"server"`
}

// Run simulates cfg against the authority, keeping phones under dir.
// progress (may be nil) receives one line per simulated day.
func Run(ctx context.Context, cfg Config, auth Authority, dir string, progress io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	began := time.Now()
	w := newWorld(cfg)
	counter := &countingTransport{next: http.DefaultTransport}
	client := &phone.Client{BaseURL: auth.URL(), HTTP: &http.Client{Transport: counter}}
	for _, p := range w.people {
		if !p.hasApp {
			continue
		}
		key := make([]byte, phone.StorageKeyLength)
		rand.Read(key)
		m := models[p.model]
		e, err := phone.Open(filepath.Join(dir, fmt.Sprint(p.id)), key, phone.Config{TxPower: m.txPower, Model: m.name})
		if err != nil {
			return nil, err
		}
		if err := e.PinPublicKey(auth.PublicKeyPEM()); err != nil {
			return nil, err
		}
		p.phone = e
	}
	res := &Result{Config: cfg, People: cfg.People, Days: cfg.Days}
	close := map[[2]int]map[int]int{} // pair → day → minutes within 2 m
	var syncTime time.Duration
	for day := 0; day < cfg.Days; day++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		newInf, err := w.simulateDay(day, close, res)
		if err != nil {
			return nil, err
		}
		res.DailyNew = append(res.DailyNew, newInf)
		warned := res.WarnedF1
		d, err := w.endOfDay(ctx, day, auth, client, res, close)
		if err != nil {
			return nil, err
		}
		syncTime += d
		res.DailyWarned = append(res.DailyWarned, res.WarnedF1-warned)
		if progress != nil {
			elapsed := time.Since(began)
			eta := time.Duration(float64(elapsed) / float64(day+1) * float64(cfg.Days-day-1))
			fmt.Fprintf(progress, "day %d/%d %s %d new infections, %d confirmed, %d uploads, %d warned F1 (%s elapsed, ETA %s)\n",
				day+1, cfg.Days, bar(day+1, cfg.Days), newInf, res.Confirmed, res.Uploads, res.WarnedF1,
				elapsed.Round(time.Second), eta.Round(time.Second))
		}
	}
	w.evaluate(close, res)
	var stored int64
	var err error
	for _, p := range w.people {
		if p.phone == nil {
			continue
		}
		res.AppUsers++
		st, err := p.phone.Status(w.dayStart(cfg.Days).Unix())
		if err != nil {
			return nil, err
		}
		stored += st.StoredBytes
		p.phone.Close()
	}
	if res.AppUsers > 0 {
		res.StoredBytes = stored / int64(res.AppUsers)
		phoneDays := float64(res.AppUsers * cfg.Days)
		res.DownloadBytesPerDay = float64(counter.bytes.Load()) / phoneDays
		res.SyncMillisPerDay = float64(syncTime.Milliseconds()) / phoneDays
		res.StoredBytesPerDay = float64(res.StoredBytes) / float64(cfg.Days)
		radioWh := 24 * (advertiseOnShare*advertisingMW + scanOnShare*scanningMW) / 1000
		cpuWh := res.SyncMillisPerDay / 1000 / 3600 * cpuActiveW
		res.BatteryPercentDay = 100 * (radioWh + cpuWh) / batteryWh
	}
	res.PowerModel = fmt.Sprintf("battery %.2f Wh; BLE advertising %.0f mW for %.0f%% of the time, scanning %.0f mW for %.0f%%; matching and sync at %.1f W of CPU",
		batteryWh, advertisingMW, advertiseOnShare*100, scanningMW, scanOnShare*100, cpuActiveW)
	if res.Server, err = auth.Stats(ctx); err != nil {
		return nil, err
	}

	// The same city without the app: who would have been infected.
	base := cfg
	base.Uptake = 0
	w0 := newWorld(base)
	for day := 0; day < cfg.Days; day++ {
		n, err := w0.simulateDay(day, nil, nil)
		if err != nil {
			return nil, err
		}
		w0.confirmCases(day)
		res.DailyNewWithoutApp = append(res.DailyNewWithoutApp, n)
	}
	for _, p := range w0.people {
		if p.state != susceptible {
			res.InfectionsWithoutApp++
		}
	}
	res.Wall = time.Since(began)
	res.WallSeconds = res.Wall.Seconds()
	return res, nil
}

// bar draws a progress bar of done out of total.
func bar(done, total int) string {
	const width = 20
	n := done * width / total
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// countingTransport counts the bytes phones download.
type countingTransport struct {
	next  http.RoundTripper
	bytes atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && resp.ContentLength > 0 {
		c.bytes.Add(resp.ContentLength)
	}
	return resp, err
}

func (w *world) dayStart(day int) time.Time { return w.cfg.Start.AddDate(0, 0, day) }

type placeKey struct {
	kind placeKind
	id   int
}

// simulateDay moves everyone through the day in 10-minute slots.
func (w *world) simulateDay(day int, close map[[2]int]map[int]int, res *Result) (int, error) {
	newInf := 0
	for _, p := range w.people {
		p.marketToday = -1
		if w.rng.Float64() < 0.3 {
			p.marketToday = w.rng.IntN(w.markets)
		}
		p.pocketLoss = []float64{0, 4, 8}[w.rng.IntN(3)]
	}
	start := w.dayStart(day)
	for _, p := range w.people {
		if p.phone != nil { // phones advertise all day: today's key exists
			if _, err := p.phone.Advertisement(start.Unix()); err != nil {
				return 0, err
			}
		}
	}
	for slot := 0; slot < 24*60/slotMinutes; slot++ {
		m := slot * slotMinutes
		now := day*24*60 + m
		groups := map[placeKey][]*person{}
		for _, p := range w.people {
			switch {
			case p.state == exposed && now >= p.infectiousAt:
				p.state = infectious
			case p.state == infectious && now >= p.recoversAt:
				p.state = recovered
			}
			k, id := w.place(p, now, m)
			size := placeSize[k]
			p.x, p.y = w.rng.Float64()*size[0], w.rng.Float64()*size[1]
			groups[placeKey{k, id}] = append(groups[placeKey{k, id}], p)
		}
		// Visit places in a fixed order: a seed must give the same run.
		keys := make([]placeKey, 0, len(groups))
		for k := range groups {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b placeKey) int { return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.id, b.id)) })
		for _, k := range keys {
			g := groups[k]
			for i, a := range g {
				for _, b := range g[i+1:] {
					d := math.Hypot(a.x-b.x, a.y-b.y)
					if d > hearingRange {
						continue
					}
					if d <= closeDist && close != nil {
						key := [2]int{min(a.id, b.id), max(a.id, b.id)}
						if close[key] == nil {
							close[key] = map[int]int{}
						}
						close[key][day] += slotMinutes
					}
					newInf += w.transmit(a, b, d, now) + w.transmit(b, a, d, now)
					if a.phone != nil && b.phone != nil && !(a.iOS && b.iOS) { // iOS background pairs are deaf
						for k := 0; k < scansPerSlot; k++ {
							t := start.Add(time.Duration(m)*time.Minute + time.Duration(k*120+w.radio.IntN(30))*time.Second).Unix()
							for _, dir := range [][2]*person{{a, b}, {b, a}} {
								heard, err := w.hear(dir[0], dir[1], d, t)
								if err != nil {
									return 0, err
								}
								if heard && res != nil {
									res.Sightings++
								}
							}
						}
					}
				}
			}
		}
	}
	for _, p := range w.people {
		if p.phone != nil {
			if err := p.phone.Flush(); err != nil {
				return 0, err
			}
		}
	}
	return newInf, nil
}

// transmit infects to from by with a hazard growing with closeness.
func (w *world) transmit(by, to *person, d float64, now int) int {
	if by.state != infectious || to.state != susceptible {
		return 0
	}
	weight := 0.0
	switch {
	case d <= 1:
		weight = 1
	case d <= 2:
		weight = 0.5
	case d <= 4:
		weight = 0.1
	}
	if w.rng.Float64() < 1-math.Exp(-w.cfg.Transmission*slotMinutes*weight) {
		w.infect(to, by.id, now)
		return 1
	}
	return 0
}

// hear makes rx's phone hear tx's advertisement at Unix time t, when the
// radio model lets it through.
func (w *world) hear(rx, tx *person, d float64, t int64) (bool, error) {
	mt, mr := models[tx.model], models[rx.model]
	loss := refLossDB + 10*pathLossExp*math.Log10(max(d, 0.3)) + w.radio.NormFloat64()*shadowSigma + rx.pocketLoss + tx.pocketLoss
	rssi := float64(mt.txPower) + mt.txError - loss + mr.rxOffset
	if rssi < sensitivity {
		return false, nil
	}
	adv, err := tx.phone.Advertisement(t)
	if err != nil {
		return false, err
	}
	return true, rx.phone.HandleScan(adv.Payload, int(math.Round(rssi)), t, mt.name)
}

// confirmCases confirms the cases tested today (two days after symptoms)
// and sends them home until they recover.
func (w *world) confirmCases(day int) []*person {
	var out []*person
	for _, p := range w.people {
		if p.confirmDay >= 0 || !p.symptomatic || p.state == susceptible {
			continue
		}
		onset := p.infectiousAt + 24*60
		if (day+1)*24*60 < onset+2*24*60 {
			continue
		}
		p.confirmDay = day
		p.homeUntil = max(p.homeUntil, p.recoversAt)
		out = append(out, p)
	}
	return out
}

// quarantineDays is how long a warned F1 stays home.
const quarantineDays = 10

// endOfDay confirms cases, lets consenting app users upload, runs the export
// worker overnight and lets every phone sync the next morning; warned people
// quarantine. It returns the time phones spent syncing and matching.
func (w *world) endOfDay(ctx context.Context, day int, auth Authority, client *phone.Client, res *Result, close map[[2]int]map[int]int) (time.Duration, error) {
	night := w.dayStart(day + 1).Add(-time.Minute)
	for _, p := range w.confirmCases(day) {
		res.Confirmed++
		if p.phone == nil || !p.consents {
			continue
		}
		onset := p.infectiousAt + 24*60
		onsetDate := w.cfg.Start.Add(time.Duration(onset) * time.Minute).Truncate(24 * time.Hour)
		code, err := auth.IssueCode(ctx, export.ReportConfirmedTest, onsetDate, night)
		if err != nil {
			return 0, err
		}
		if _, err := p.phone.Upload(ctx, client, code, night.Unix()); err != nil {
			return 0, fmt.Errorf("sim: upload of person %d: %w", p.id, err)
		}
		p.uploaded = true
		res.Uploads++
	}
	// With 6-hour batches, yesterday's keys (embargoed until 02:00) are in
	// the batch that ends at 06:00.
	morning := w.dayStart(day + 1).Add(7 * time.Hour)
	if err := auth.Export(ctx, morning); err != nil {
		return 0, err
	}
	var spent time.Duration
	for _, p := range w.people {
		if p.phone == nil {
			continue
		}
		t0 := time.Now()
		if _, err := p.phone.Sync(ctx, client, morning.Unix()); err != nil {
			return 0, fmt.Errorf("sim: sync of person %d: %w", p.id, err)
		}
		spent += time.Since(t0)
		switch lv := p.phone.Warning(morning.Unix()).Level; {
		case lv == phone.LevelF1 && p.warnedF1Day < 0:
			p.warnedF1Day = day + 1
			p.homeUntil = max(p.homeUntil, (day+1+quarantineDays)*24*60)
			res.WarnedF1++
		case lv == phone.LevelF2 && p.warnedF2Day < 0:
			p.warnedF2Day = day + 1
			res.WarnedF2++
		}
	}
	// The authority traces today's F1 warnings: those who really were close
	// to a case are confirmed F1 and get a RECURSIVE code with the exposure date.
	for _, p := range w.people {
		if p.warnedF1Day != day+1 || p.f1Exposure >= 0 {
			continue
		}
		exposure := w.closeContactDay(p, close)
		if exposure < 0 {
			continue
		}
		p.f1Exposure = exposure
		res.ConfirmedF1++
		if !p.consents {
			continue
		}
		code, err := auth.IssueCode(ctx, export.ReportRecursive, w.dayStart(exposure), morning)
		if err != nil {
			return 0, err
		}
		if _, err := p.phone.Upload(ctx, client, code, morning.Unix()); err != nil {
			return 0, fmt.Errorf("sim: F1 upload of person %d: %w", p.id, err)
		}
		p.f1Uploaded = true
		res.UploadsF1++
	}
	return spent, nil
}

// closeContactDay returns the latest day on which p spent 15 minutes or
// more within 2 m of a case that published, inside the days its keys cover;
// -1 if none.
func (w *world) closeContactDay(p *person, close map[[2]int]map[int]int) int {
	best := -1
	for _, c := range w.people {
		if !c.uploaded {
			continue
		}
		from := (c.infectiousAt+24*60)/(24*60) - 2
		for d, mins := range close[[2]int{min(p.id, c.id), max(p.id, c.id)}] {
			if mins >= closeMinutes && d >= from && d <= c.confirmDay {
				best = max(best, d)
			}
		}
	}
	return best
}

// evaluate compares warnings with the ground truth: an app user is a true
// F1 when, on a day covered by an uploader's keys (from two days before
// onset to confirmation), the two spent 15 minutes or more within 2 m.
func (w *world) evaluate(close map[[2]int]map[int]int, res *Result) {
	truth := map[int]int{} // person → earliest confirmation day of a case they met
	for pair, days := range close {
		for _, ab := range [][2]int{{pair[0], pair[1]}, {pair[1], pair[0]}} {
			c, b := w.people[ab[0]], w.people[ab[1]]
			if !c.uploaded || b.phone == nil {
				continue
			}
			from := (c.infectiousAt+24*60)/(24*60) - 2
			for d, mins := range days {
				if mins >= closeMinutes && d >= from && d <= c.confirmDay {
					if old, ok := truth[b.id]; !ok || c.confirmDay < old {
						truth[b.id] = c.confirmDay
					}
				}
			}
		}
	}
	res.TrueContacts = len(truth)
	var delay float64
	delays := 0
	for id, confirmed := range truth {
		if p := w.people[id]; p.warnedF1Day >= 0 {
			res.TruePositive++
			if p.warnedF1Day >= confirmed { // earlier warnings came from other contacts
				delay += float64(p.warnedF1Day - confirmed)
				delays++
			}
		}
	}
	if res.WarnedF1 > 0 {
		res.Precision = float64(res.TruePositive) / float64(res.WarnedF1)
	}
	if res.TrueContacts > 0 {
		res.Recall = float64(res.TruePositive) / float64(res.TrueContacts)
	}
	if delays > 0 {
		res.MeanDelay = delay / float64(delays)
	}
	for _, p := range w.people {
		if p.state != susceptible {
			res.Infections++
		}
	}

	// F2: close to an F1 who published, from the F1's exposure day until the
	// upload (RECURSIVE keys cover only those days); F1s themselves excluded.
	truthF2 := map[int]bool{}
	for pair, days := range close {
		for _, ab := range [][2]int{{pair[0], pair[1]}, {pair[1], pair[0]}} {
			f, b := w.people[ab[0]], w.people[ab[1]]
			if _, isF1 := truth[b.id]; !f.f1Uploaded || b.phone == nil || isF1 {
				continue
			}
			for d, mins := range days {
				if mins >= closeMinutes && d >= f.f1Exposure && d < f.warnedF1Day {
					truthF2[b.id] = true
				}
			}
		}
	}
	res.TrueContactsF2 = len(truthF2)
	for id := range truthF2 {
		if w.people[id].warnedF2Day >= 0 {
			res.TruePositiveF2++
		}
	}
	if res.WarnedF2 > 0 {
		res.PrecisionF2 = float64(res.TruePositiveF2) / float64(res.WarnedF2)
	}
	if res.TrueContactsF2 > 0 {
		res.RecallF2 = float64(res.TruePositiveF2) / float64(res.TrueContactsF2)
	}
}

// TempDir makes a directory for the phones of a run.
func TempDir() (string, error) { return os.MkdirTemp("", "bluezone-sim-*") }
