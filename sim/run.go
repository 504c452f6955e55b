package sim

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/protocol"
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
	// AppAPI is the API key and app name phones upload with.
	AppAPI() (apiKey, app string)
	// Stats reports the server's side of the run.
	Stats(ctx context.Context) (ServerStats, error)
	// CallbackQueue returns the pending callback requests at sim time now,
	// as officials see them in the portal.
	CallbackQueue(ctx context.Context, now time.Time) ([]CallbackRequest, error)
	// IssueCallbackCode gives the person who sent callback request id a
	// code of type rt (RECURSIVE: with the request's exposure date), as an
	// official does from the queue, which deletes the request.
	IssueCallbackCode(ctx context.Context, id int64, rt export.ReportType, now time.Time) (string, error)
}

// CallbackRequest is a pending callback request as the authority reads it.
type CallbackRequest struct {
	ID           int64
	PhoneNumber  string
	Level        int
	ExposureDate string // YYYY-MM-DD
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
)

// Ground truth and time step.
const (
	closeDist    = 2.0 // m, ground-truth close contact
	closeMinutes = 15  // per day, ground truth
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

	// F2: warned F1s ask for a callback (Config.CallbackConsent); the
	// authority calls each back and gives an F1 (RECURSIVE) code, which
	// they publish with (Config.Consent); their contacts are warned F2.
	// CallbacksTrueF1 counts the requests from true close contacts.
	Callbacks       int     `json:"callback_requests"`
	CallbacksTrueF1 int     `json:"callback_requests_from_true_f1"`
	ConfirmedF1     int     `json:"confirmed_f1"`
	UploadsF1       int     `json:"uploads_f1"`
	TrueContactsF2  int     `json:"true_close_contacts_of_f1_uploaders_with_app"`
	WarnedF2        int     `json:"warned_f2"`
	TruePositiveF2  int     `json:"true_positive_f2"`
	PrecisionF2     float64 `json:"precision_f2"`
	RecallF2        float64 `json:"recall_f2"`
	// UploadsRevising counts the F0 uploads of people who had published
	// RECURSIVE keys before: their overlapping keys are revised with the
	// phone's revision token. UploadsF1AfterF0 counts the RECURSIVE uploads
	// of people who had published as F0: only their keys since go out.
	// KeysSent, KeysInserted and KeysRejected (by the server's error code)
	// count the keys of every upload.
	UploadsRevising  int            `json:"uploads_f0_after_f1"`
	UploadsF1AfterF0 int            `json:"uploads_f1_after_f0"`
	KeysSent         int            `json:"keys_sent"`
	KeysInserted     int            `json:"keys_inserted"`
	KeysRejected     map[string]int `json:"keys_rejected,omitempty"`
	MeanDelay        float64        `json:"mean_days_confirmation_to_warning"`
	Sightings        int64          `json:"sightings_handled"`
	StoredBytes      int64          `json:"stored_bytes_per_phone_mean"`
	Wall             time.Duration  `json:"-"`
	WallSeconds      float64        `json:"wall_seconds"`
	DailyNew         []int          `json:"daily_new_infections"`
	DailyWarned      []int          `json:"daily_new_f1_warnings"`

	// The same city and seed without the app (nobody warned, nobody quarantined).
	InfectionsWithoutApp int   `json:"infections_without_app"`
	DailyNewWithoutApp   []int `json:"daily_new_infections_without_app"`

	// Per phone per day.
	DownloadBytesPerDay float64 `json:"download_bytes_per_phone_day"`
	SyncMillisPerDay    float64 `json:"sync_and_match_ms_per_phone_day"`
	StoredBytesPerDay   float64 `json:"stored_bytes_per_phone_day"`
	BatteryPercentDay   float64 `json:"battery_percent_per_phone_day"`
	PowerModel          string  `json:"battery_power_model"`
	powerModelArgs      []any   // PowerModel's figures, for the report in another language

	Server ServerStats `json:"server"`
	// Requests the server answered (uploads, and export files each fetched
	// once per publication), and export requests the CDN answered for it.
	ServerRequests int64 `json:"server_requests"`
	CDNRequests    int64 `json:"cdn_requests"`

	// How the run was made.
	FullSyncPhones     int     `json:"full_sync_phones"`
	SyncedPhonesPerDay float64 `json:"phones_synced_per_day"`
	Workers            int     `json:"workers"`
	// ScanBehaviour is how phones scanned (Config.ScanBehaviour), and Scans
	// how many scans they made, each told to the engine (RecordScan).
	ScanBehaviour string `json:"scan_behaviour"`
	Scans         int64  `json:"scans_recorded"`
}

// run is one simulation in progress.
type run struct {
	cfg     Config
	w       *world
	auth    Authority
	workers []*worker
	res     *Result

	arena      *arena
	origin     *countingTransport // requests reaching the server
	cdn        *cdn
	counted    *countingTransport // the full-sync phones' downloads
	fullClient *phone.Client      // phones syncing as real ones do
	fastClient *phone.Client      // the others, sharing work
	shared     *phone.Shared

	// Ground truth: per person, the days with 15 minutes or more within 2 m
	// of someone. met[day] tells whose phones could have heard whose.
	contacts [][]contact
	met      []dayPlaces
	// owners maps the keys of uploaders to them; files are the export files
	// already read.
	owners map[protocol.TEK]int
	files  map[string]bool

	syncTime      time.Duration // of full-sync phones
	fullPhoneDays int
	syncs         int
}

type contact struct {
	other int32
	day   int16
}

// dayPlaces records where phones were on one day: two phones that heard
// each other were in one place.
type dayPlaces struct {
	// Person i's places are places[visits[i]:visits[i+1]] (none without a
	// phone); place p's phones are phones[start[p]:start[p+1]].
	visits, places []int32
	start, phones  []int32
}

// together calls yield with the phones that were in a place with person i.
func (d dayPlaces) together(i int, yield func(int32)) {
	if d.start == nil {
		return
	}
	for _, pl := range d.places[d.visits[i]:d.visits[i+1]] {
		for _, v := range d.phones[d.start[pl]:d.start[pl+1]] {
			yield(v)
		}
	}
}

// Run simulates cfg against the authority, keeping phones' data under dir.
// progress (may be nil) receives one line per simulated day, and one at
// least every 10 seconds during long days.
func Run(ctx context.Context, cfg Config, auth Authority, dir string, progress io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	began := time.Now()
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	ar, err := newArena(filepath.Join(dir, "sightings.arena"))
	if err != nil {
		return nil, err
	}
	defer ar.close()
	origin := &countingTransport{next: http.DefaultTransport}
	r := &run{cfg: cfg, w: newWorld(cfg), auth: auth, arena: ar, origin: origin, cdn: newCDN(origin),
		shared: phone.NewShared(), contacts: make([][]contact, cfg.People), owners: map[protocol.TEK]int{}, files: map[string]bool{},
		res: &Result{Config: cfg, People: cfg.People, Days: cfg.Days, Workers: cfg.Workers, ScanBehaviour: cfg.ScanBehaviour}}
	r.counted = &countingTransport{next: r.cdn}
	apiKey, app := auth.AppAPI()
	r.fullClient = &phone.Client{BaseURL: auth.URL(), HTTP: &http.Client{Transport: r.counted}, APIKey: apiKey, App: app}
	r.fastClient = &phone.Client{BaseURL: auth.URL(), HTTP: &http.Client{Transport: r.cdn}, Shared: r.shared}
	for range cfg.Workers {
		r.workers = append(r.workers, r.w.newWorker(true))
	}
	if err := r.openPhones(ctx); err != nil {
		return nil, err
	}
	res := r.res
	prog := newProgress(progress)
	r.w.onSlot = func(day, slot int) { prog.slot("", day, cfg.Days, slot) }
	for day := 0; day < cfg.Days; day++ {
		tally, err := r.w.simulateDay(ctx, r.workers, day, true)
		if err != nil {
			return nil, err
		}
		res.Sightings += tally.sightings
		res.Scans += tally.scans
		res.DailyNew = append(res.DailyNew, tally.newInf)
		r.recordTruth(day, tally)
		warned := res.WarnedF1
		if err := r.endOfDay(ctx, day); err != nil {
			return nil, err
		}
		res.DailyWarned = append(res.DailyWarned, res.WarnedF1-warned)
		prog.day("", day+1, cfg.Days, "%d new infections, %d confirmed, %d uploads, %d warned F1",
			tally.newInf, res.Confirmed, res.Uploads, res.WarnedF1)
	}
	r.evaluate()
	if err := r.phoneFigures(); err != nil {
		return nil, err
	}
	if res.Server, err = auth.Stats(ctx); err != nil {
		return nil, err
	}
	res.ServerRequests, res.CDNRequests = r.origin.requests.Load(), r.cdn.requests.Load()

	// The same city without the app: who would have been infected.
	base := cfg
	base.Uptake = 0
	w0 := newWorld(base)
	prog = newProgress(progress)
	w0.onSlot = func(day, slot int) { prog.slot("without the app: ", day, cfg.Days, slot) }
	workers := make([]*worker, cfg.Workers)
	for i := range workers {
		workers[i] = w0.newWorker(false)
	}
	for day := 0; day < cfg.Days; day++ {
		t, err := w0.simulateDay(ctx, workers, day, false)
		if err != nil {
			return nil, err
		}
		w0.confirmCases(day)
		res.DailyNewWithoutApp = append(res.DailyNewWithoutApp, t.newInf)
		if day+1 == cfg.Days || time.Since(prog.last) >= prog.every {
			n := 0
			for _, d := range res.DailyNewWithoutApp {
				n += d
			}
			prog.day("without the app: ", day+1, cfg.Days, "%d infections so far", n+cfg.InitialInfected)
		}
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

// openPhones gives every app user a phone running the real engine.
func (r *run) openPhones(ctx context.Context) error {
	var users []*person
	for _, p := range r.w.people {
		if !p.hasApp {
			continue
		}
		users = append(users, p)
		if r.res.FullSyncPhones < r.cfg.FullSyncPhones {
			p.fullSync = true
			r.res.FullSyncPhones++
		}
	}
	pem := r.auth.PublicKeyPEM()
	return parallel(ctx, r.workers, len(users), 64, func(_ *worker, i int) error {
		p := users[i]
		b, err := scanBehaviourFor(r.cfg.ScanBehaviour, p.iOS)
		if err != nil {
			return err
		}
		p.scan = newScanner(b, r.cfg.Seed, p.id, r.cfg.Start.Unix())
		key := make([]byte, phone.StorageKeyLength)
		rand.Read(key)
		m := models[p.model]
		p.storage = &phoneStorage{a: r.arena}
		e, err := phone.OpenStorage(p.storage, key, phone.Config{TxPower: m.txPower, Model: m.name})
		if err != nil {
			return err
		}
		if err := e.PinPublicKey(pem); err != nil {
			return err
		}
		p.phone = e
		return nil
	})
}

// recordTruth keeps the day's close contacts (15 minutes or more within
// 2 m) and who could hear whom.
func (r *run) recordTruth(day int, t *dayTally) {
	for k, mins := range t.close {
		if mins < closeMinutes {
			continue
		}
		a, b := pairOf(k)
		r.contacts[a] = append(r.contacts[a], contact{int32(b), int16(day)})
		r.contacts[b] = append(r.contacts[b], contact{int32(a), int16(day)})
	}
	n := r.w.placeBase[placeKinds]
	d := dayPlaces{visits: make([]int32, len(r.w.people)+1), start: make([]int32, n+1)}
	for _, p := range r.w.people {
		d.visits[p.id+1] = d.visits[p.id]
		if p.phone == nil {
			continue
		}
		d.visits[p.id+1] += int32(len(p.visited))
		d.places = append(d.places, p.visited...)
		for _, pl := range p.visited {
			d.start[pl+1]++
		}
	}
	for pl := range n {
		d.start[pl+1] += d.start[pl]
	}
	d.phones = make([]int32, d.start[n])
	fill := slices.Clone(d.start)
	for _, p := range r.w.people {
		for _, pl := range d.places[d.visits[p.id]:d.visits[p.id+1]] {
			d.phones[fill[pl]] = int32(p.id)
			fill[pl]++
		}
	}
	r.met = append(r.met, d)
	// Older days can no longer be matched: their keys are past retention.
	if old := day - phone.RetentionDays - 2; old >= 0 {
		r.met[old] = dayPlaces{}
	}
}

// phoneFigures fills in the per phone per day figures.
func (r *run) phoneFigures() error {
	res := r.res
	var stored int64
	scanOnShare := 0.0 // of the phones, mean
	for _, p := range r.w.people {
		if p.phone == nil {
			continue
		}
		res.AppUsers++
		scanOnShare += p.scan.behaviour.Window / p.scan.behaviour.MeanGap()
		n, err := p.storage.LogBytes()
		if err != nil {
			return err
		}
		stored += n
		if err := p.phone.Close(); err != nil {
			return err
		}
	}
	if res.AppUsers > 0 {
		scanOnShare /= float64(res.AppUsers)
		res.StoredBytes = stored / int64(res.AppUsers)
		res.StoredBytesPerDay = float64(res.StoredBytes) / float64(r.cfg.Days)
		res.SyncedPhonesPerDay = float64(r.syncs) / float64(r.cfg.Days)
	}
	if r.fullPhoneDays > 0 {
		res.DownloadBytesPerDay = float64(r.counted.bytes.Load()) / float64(r.fullPhoneDays)
		res.SyncMillisPerDay = float64(r.syncTime.Microseconds()) / 1000 / float64(r.fullPhoneDays)
	}
	radioWh := 24 * (advertiseOnShare*advertisingMW + scanOnShare*scanningMW) / 1000
	cpuWh := res.SyncMillisPerDay / 1000 / 3600 * cpuActiveW
	res.BatteryPercentDay = 100 * (radioWh + cpuWh) / batteryWh
	res.powerModelArgs = []any{batteryWh, advertisingMW, advertiseOnShare * 100, scanningMW, scanOnShare * 100, r.cfg.ScanBehaviour, cpuActiveW}
	res.PowerModel = fmt.Sprintf(powerModelFormat, res.powerModelArgs...)
	return nil
}

func (w *world) dayStart(day int) time.Time { return w.cfg.Start.AddDate(0, 0, day) }

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

// upload publishes p's keys with a code of type rt for date, at now.
func (r *run) upload(ctx context.Context, p *person, rt export.ReportType, date, now time.Time) error {
	code, err := r.auth.IssueCode(ctx, rt, date, now)
	if err != nil {
		return err
	}
	if err := r.publish(ctx, p, code, now); err != nil {
		return fmt.Errorf("sim: upload of person %d: %w", p.id, err)
	}
	return nil
}

// publish uploads p's keys with code at now, and counts what the server
// did with them.
func (r *run) publish(ctx context.Context, p *person, code string, now time.Time) error {
	for _, k := range p.phone.DiagnosisKeys(0, now.Unix()) {
		r.owners[k.TEK] = p.id
	}
	u, err := p.phone.Upload(ctx, r.fullClient, code, now.Unix())
	if err != nil {
		return err
	}
	res := r.res
	res.KeysSent += u.Keys
	res.KeysInserted += u.Inserted
	for _, rj := range u.Rejected {
		if res.KeysRejected == nil {
			res.KeysRejected = map[string]int{}
		}
		res.KeysRejected[rj.Code]++
	}
	return nil
}

// endOfDay confirms cases, lets consenting app users upload, runs the export
// worker overnight and lets phones sync the next morning; warned people
// quarantine, and the authority confirms F1s, who publish in turn.
func (r *run) endOfDay(ctx context.Context, day int) error {
	w, res := r.w, r.res
	night := w.dayStart(day + 1).Add(-time.Minute)
	for _, p := range w.confirmCases(day) {
		res.Confirmed++
		if p.phone == nil || !p.consents {
			continue
		}
		onset := p.infectiousAt + 24*60
		onsetDate := w.cfg.Start.Add(time.Duration(onset) * time.Minute).Truncate(24 * time.Hour)
		if err := r.upload(ctx, p, export.ReportConfirmedTest, onsetDate, night); err != nil {
			return err
		}
		p.uploaded = true
		res.Uploads++
		if p.f1Uploaded {
			res.UploadsRevising++
		}
	}
	// With 6-hour batches, yesterday's keys (embargoed until 02:00) are in
	// the batch that ends at 06:00.
	morning := w.dayStart(day + 1).Add(7 * time.Hour)
	if err := r.auth.Export(ctx, morning); err != nil {
		return err
	}
	r.cdn.purge()
	r.shared.Reset()
	toSync, err := r.mustSync(ctx, day)
	if err != nil {
		return err
	}
	levels := make([]int, len(toSync))
	took := make([]time.Duration, len(toSync))
	err = parallel(ctx, r.workers, len(toSync), 8, func(_ *worker, i int) error {
		p := toSync[i]
		c := r.fastClient
		if p.fullSync {
			c = r.fullClient
		}
		t0 := time.Now()
		if _, err := p.phone.Sync(ctx, c, morning.Unix()); err != nil {
			return fmt.Errorf("sim: sync of person %d: %w", p.id, err)
		}
		took[i] = time.Since(t0)
		levels[i] = p.phone.Warning(morning.Unix()).Level
		return nil
	})
	if err != nil {
		return err
	}
	r.syncs += len(toSync)
	for i, p := range toSync {
		if p.fullSync {
			r.syncTime += took[i]
			r.fullPhoneDays++
		}
		switch lv := levels[i]; {
		case lv == phone.LevelF1 && p.warnedF1Day < 0:
			p.warnedF1Day = day + 1
			p.homeUntil = max(p.homeUntil, (day+1+quarantineDays)*24*60)
			res.WarnedF1++
		case lv == phone.LevelF2 && p.warnedF2Day < 0:
			p.warnedF2Day = day + 1
			res.WarnedF2++
		}
	}
	return r.workCallbacks(ctx, toSync, day, morning)
}

// callbackNumber is the phone number a simulated person gives.
func callbackNumber(id int) string { return fmt.Sprintf("+8490%07d", id) }

// asksCallback draws, once per person and apart from every other random
// stream of the run (so that the city is the same at any consent rate),
// whether a warned person asks to be called back.
func (r *run) asksCallback(p *person) bool {
	return mrand.New(mrand.NewPCG(r.cfg.Seed, 0xca11bac<<32|uint64(p.id))).Float64() < r.cfg.CallbackConsent
}

// workCallbacks lets today's warned F1s ask for a callback, then works the
// authority's queue as an official does. The authority knows only what the
// request says: it cannot tell a true close contact of an anonymous case
// from a false warning on the telephone, so it gives an F1 (RECURSIVE)
// code, with the warning's date, to everyone it calls back. The simulator
// alone knows who was really close, for the figures.
func (r *run) workCallbacks(ctx context.Context, toSync []*person, day int, morning time.Time) error {
	res := r.res
	byNumber := map[string]*person{}
	for _, p := range toSync {
		if p.warnedF1Day != day+1 || p.callbackAsked || !r.asksCallback(p) {
			continue
		}
		p.callbackAsked = true
		if _, err := p.phone.RequestCallback(ctx, r.fullClient, callbackNumber(p.id), morning.Unix()); err != nil {
			return fmt.Errorf("sim: callback of person %d: %w", p.id, err)
		}
		byNumber[callbackNumber(p.id)] = p
		res.Callbacks++
		if r.closeContactDay(p) >= 0 {
			res.CallbacksTrueF1++
		}
	}
	for {
		queue, err := r.auth.CallbackQueue(ctx, morning)
		if err != nil || len(queue) == 0 {
			return err
		}
		for _, c := range queue {
			code, err := r.auth.IssueCallbackCode(ctx, c.ID, export.ReportRecursive, morning)
			if err != nil {
				return err
			}
			p := byNumber[c.PhoneNumber]
			if p == nil {
				return fmt.Errorf("sim: callback request #%d from %s, whom nobody of today asked for", c.ID, c.PhoneNumber)
			}
			res.ConfirmedF1++
			p.f1Exposure = r.closeContactDay(p)
			if !p.consents {
				continue
			}
			if err := r.publish(ctx, p, code, morning); err != nil {
				return fmt.Errorf("sim: RECURSIVE upload of person %d: %w", p.id, err)
			}
			p.f1Uploaded = true
			res.UploadsF1++
			if p.uploaded {
				res.UploadsF1AfterF0++
			}
		}
	}
}

// mustSync returns the phones that sync this morning, in order: the
// full-sync phones, and those that were in a place with someone whose keys
// are in export files published since the last sync, on a day a key covers
// (or next to it, as identifiers match two hours either side). No other
// phone holds a sighting those keys could match.
func (r *run) mustSync(ctx context.Context, day int) ([]*person, error) {
	pub, err := r.newlyPublished(ctx)
	if err != nil {
		return nil, err
	}
	mark := make([]bool, len(r.w.people))
	for _, k := range pub {
		for d := max(0, k.day-1); d <= min(day, k.day+1); d++ {
			r.met[d].together(k.owner, func(v int32) { mark[v] = true })
		}
	}
	var out []*person
	for _, p := range r.w.people {
		if p.phone != nil && (p.fullSync || mark[p.id]) {
			out = append(out, p)
		}
	}
	return out, nil
}

// ownedKey is a published key of a simulated uploader.
type ownedKey struct {
	owner int
	day   int // of the run
}

// newlyPublished reads the export files that appeared since the last call
// (through the CDN, as phones do) and returns their keys of uploaders.
func (r *run) newlyPublished(ctx context.Context) ([]ownedKey, error) {
	index, err := r.fetch(ctx, api.PathExports+api.IndexName)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	var out []ownedKey
	for _, name := range strings.Fields(string(index)) {
		if r.files[name] {
			continue
		}
		r.files[name] = true
		b, err := r.fetch(ctx, api.PathExports+name)
		if err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		a, err := export.Read(b)
		if err != nil {
			return nil, fmt.Errorf("sim: %s: %w", name, err)
		}
		for _, k := range append(a.File.Keys, a.File.Revised...) {
			owner, ok := r.owners[protocol.TEK(k.Data)]
			if !ok {
				continue // padding
			}
			t := protocol.IntervalTime(k.RollingStart)
			out = append(out, ownedKey{owner, int(t.Sub(r.cfg.Start) / (24 * time.Hour))})
		}
	}
	return out, nil
}

// fetch GETs a path through the CDN.
func (r *run) fetch(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(r.auth.URL(), "/")+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.cdn.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// closeContactDay returns the latest day on which p spent 15 minutes or
// more within 2 m of a case that published, inside the days its keys cover;
// -1 if none.
func (r *run) closeContactDay(p *person) int {
	best := -1
	for _, c := range r.contacts[p.id] {
		o, d := r.w.people[c.other], int(c.day)
		if o.uploaded && d >= f0From(o) && d <= o.confirmDay {
			best = max(best, d)
		}
	}
	return best
}

// f0From is the first day an uploaded case's keys cover: two days before onset.
func f0From(c *person) int { return (c.infectiousAt+24*60)/(24*60) - 2 }

// evaluate compares warnings with the ground truth: an app user is a true
// F1 when, on a day covered by an uploader's keys (from two days before
// onset to confirmation), the two spent 15 minutes or more within 2 m.
func (r *run) evaluate() {
	w, res := r.w, r.res
	truth := map[int]int{} // person → earliest confirmation day of a case they met
	for _, b := range w.people {
		if b.phone == nil {
			continue
		}
		for _, ct := range r.contacts[b.id] {
			c, d := w.people[ct.other], int(ct.day)
			if c.uploaded && d >= f0From(c) && d <= c.confirmDay {
				if old, ok := truth[b.id]; !ok || c.confirmDay < old {
					truth[b.id] = c.confirmDay
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

	// F2: close to a true F1 who published, from the day of the F1's true
	// close contact until the upload (RECURSIVE keys cover only the days
	// from the warning's date, which may miss some); F1s themselves
	// excluded. Contacts of false F1s who published are warned F2 too, and
	// count against F2 precision.
	for _, b := range w.people {
		if _, isF1 := truth[b.id]; b.phone == nil || isF1 {
			continue
		}
		for _, ct := range r.contacts[b.id] {
			f, d := w.people[ct.other], int(ct.day)
			if f.f1Uploaded && f.f1Exposure >= 0 && d >= f.f1Exposure && d < f.warnedF1Day {
				res.TrueContactsF2++
				if b.warnedF2Day >= 0 {
					res.TruePositiveF2++
				}
				break
			}
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
