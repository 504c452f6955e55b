package evaluate

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/risk"
)

// Options say how sessions are replayed.
type Options struct {
	// Config is the risk configuration installed, signed, in every receiver.
	Config risk.Config
	// ScanEverySeconds is the receivers' configured scan period
	// (phone.Config; EN phones scan about every 300 s; zero means 300). It
	// drives only the engine's radio duty cycle, which a replay does not
	// run: scoring counts the time between the scan instances the rows show.
	ScanEverySeconds int
	// DefaultTxPower (dBm) is a transmitter's configured TX power when none
	// of its rows in the session carries tx_power_dbm.
	DefaultTxPower int
	// Progress, when not nil, gets a line every few seconds.
	Progress io.Writer
	// Label prefixes progress lines (a sweep's candidate).
	Label string
}

// Exposure is what a receiver's engine reported for one transmitter on one day.
type Exposure struct {
	Session, Receiver, Transmitter string
	Day                            string // YYYY-MM-DD, UTC
	// Days are the engine's own results for the transmitter's keys that day.
	Days []phone.ExposureDay
	// Windows are the engine's exposure windows of those keys that day
	// (Engine.ExposureWindows), which Score weighs under any configuration.
	Windows []risk.ExposureWindow
}

// Minutes returns the weighted minutes of the engine's results, as scored
// under the configuration of the replay.
func (x Exposure) Minutes() float64 {
	m := 0.0
	for _, d := range x.Days {
		m += d.Minutes
	}
	return m
}

// Score returns the day's score of the pair under cfg: the engine's
// windows summarized as the engine does (risk.Config.Summarize), so that a
// configuration differing from the replay's only in how windows are weighed
// needs no new replay; without windows, the engine's own minutes.
func (x Exposure) Score(cfg risk.Config) float64 {
	if x.Windows == nil {
		return x.Minutes()
	}
	m := 0.0
	for _, d := range cfg.Summarize(x.Windows).Days {
		if d.Day.String() == x.Day {
			m += d.Score
		}
	}
	return m
}

// Decide is the decision taken from the engine's results for one pair on
// one day: a day at high risk, a score at or above the configured minutes
// threshold, as phone.Engine.Warning decides. It is the only place that
// turns engine results into a decision; it returns the day's score too, so
// that callers do not score the windows twice.
func Decide(cfg risk.Config, x Exposure) (score float64, warned bool) {
	score = x.Score(cfg)
	return score, score >= cfg.MinutesThreshold
}

// Replay runs every session of d through phone engines and returns what
// the receivers' engines found, by session, receiver, transmitter and day.
func Replay(ctx context.Context, d *Dataset, opt Options) ([]Exposure, error) {
	if opt.ScanEverySeconds == 0 {
		opt.ScanEverySeconds = 300
	}
	if err := opt.Config.Validate(); err != nil {
		return nil, err
	}
	signKey, err := export.GenerateKey() // throwaway: signs this run's exports and configuration
	if err != nil {
		return nil, err
	}
	pub, err := export.MarshalPublicKeyPEM(&signKey.PublicKey)
	if err != nil {
		return nil, err
	}
	cfgData, cfgSig, err := risk.SignConfig(opt.Config, signKey)
	if err != nil {
		return nil, err
	}
	r := &replayer{opt: opt, key: signKey, pub: pub, cfgData: cfgData, cfgSig: cfgSig}
	start, last := time.Now(), time.Now()
	var out []Exposure
	for i, s := range d.Sessions {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		got, err := r.session(s)
		if err != nil {
			return nil, fmt.Errorf("session %q: %w", s.Name, err)
		}
		out = append(out, got...)
		if opt.Progress != nil && time.Since(last) > 2*time.Second {
			last = time.Now()
			el := time.Since(start)
			eta := time.Duration(float64(el) / float64(i+1) * float64(len(d.Sessions)-i-1)).Round(time.Second)
			fmt.Fprintf(opt.Progress, "%sreplayed %d/%d sessions, ETA %s\n", opt.Label, i+1, len(d.Sessions), eta)
		}
	}
	return out, nil
}

type replayer struct {
	opt             Options
	key             *ecdsa.PrivateKey
	pub             []byte
	cfgData, cfgSig []byte
}

// txPowers picks each phone's configured TX power: the most common
// tx_power_dbm of the rows it sent in the session, else the default.
func (r *replayer) txPowers(s *Session) []int {
	counts := make([]map[int16]int, len(s.Phones))
	for _, row := range s.Rows {
		if row.TxPower == NoTxPower {
			continue
		}
		if counts[row.Transmitter] == nil {
			counts[row.Transmitter] = map[int16]int{}
		}
		counts[row.Transmitter][row.TxPower]++
	}
	out := make([]int, len(s.Phones))
	for i, c := range counts {
		out[i] = r.opt.DefaultTxPower
		best := 0
		for p, n := range c {
			if n > best || n == best && int(p) < out[i] {
				out[i], best = int(p), n
			}
		}
	}
	return out
}

func (r *replayer) session(s *Session) ([]Exposure, error) {
	if len(s.Rows) == 0 {
		return nil, nil
	}
	if span := s.Rows[len(s.Rows)-1].Time - s.Rows[0].Time; span >= (phone.RetentionDays-1)*86400 {
		return nil, fmt.Errorf("spans %.1f days, but phones keep %d days of keys and sightings: split it into sessions of at most %d days",
			span/86400, phone.RetentionDays, phone.RetentionDays-1)
	}
	powers := r.txPowers(s)
	engines := make([]*phone.Engine, len(s.Phones))
	defer func() {
		for _, e := range engines {
			if e != nil {
				e.Close()
			}
		}
	}()
	for i, p := range s.Phones {
		storageKey := make([]byte, 32)
		rand.Read(storageKey)
		e, err := phone.OpenStorage(phone.NewMemoryStorage(), storageKey, phone.Config{
			TxPower: powers[i], Model: p.Model,
			ScanOnSeconds: min(4, r.opt.ScanEverySeconds), ScanEverySeconds: r.opt.ScanEverySeconds,
		})
		if err != nil {
			return nil, fmt.Errorf("phone %q: %w", p.ID, err)
		}
		engines[i] = e
	}
	// Every report is a scan instance of its receiver to the engine, which
	// merges reports within a minute of a scan's first (phone.Engine.RecordScan):
	// rows heard need nothing more.
	first, end := int64(math.Floor(s.Rows[0].Time)), int64(0)
	for _, row := range s.Rows {
		t := int64(math.Floor(row.Time))
		end = max(end, t)
		if !row.Scanned {
			continue
		}
		rx, tx := engines[row.Receiver], engines[row.Transmitter]
		adv, err := tx.Advertisement(t)
		if err != nil {
			return nil, fmt.Errorf("line %d: transmitter %q: %w", row.Line, s.Phones[row.Transmitter].ID, err)
		}
		if err := rx.HandleServiceData(int(protocol.ServiceBluezone), adv.ServiceData, int(row.RSSI), t, s.Phones[row.Transmitter].Model); err != nil {
			return nil, fmt.Errorf("line %d: receiver %q: %w", row.Line, s.Phones[row.Receiver].ID, err)
		}
	}

	// Every transmitter publishes the keys its engine reports.
	owner := map[string]int{}
	f := &export.File{Region: "VN", BatchNum: 1, BatchSize: 1}
	for i, e := range engines {
		for _, k := range e.DiagnosisKeys(first-86400, end) {
			ek := export.Key{Data: k.TEK, RollingStart: k.RollingStart, RollingPeriod: k.RollingPeriod, ReportType: export.ReportConfirmedTest}
			f.Keys = append(f.Keys, ek)
			owner[ek.Hex()] = i
		}
	}
	if len(f.Keys) == 0 {
		return nil, nil
	}
	f.Start, f.End = time.Unix(first, 0).UTC(), time.Unix(end+1, 0).UTC()
	var zip bytes.Buffer
	signer := export.Signer{Key: r.key, Info: export.SignatureInfo{KeyID: "evaluate", KeyVersion: "v1", Algorithm: export.AlgorithmECDSAP256SHA256}}
	if err := export.Write(&zip, f, signer); err != nil {
		return nil, err
	}

	receivers := map[int32]bool{}
	for _, row := range s.Rows {
		if row.Scanned {
			receivers[row.Receiver] = true
		}
	}
	now := end + 1
	var out []Exposure
	for i, e := range engines {
		if !receivers[int32(i)] {
			continue
		}
		if err := e.PinPublicKey(r.pub); err != nil {
			return nil, err
		}
		if err := e.SetRiskConfig(r.cfgData, r.cfgSig); err != nil {
			return nil, err
		}
		if _, err := e.MatchExports([][]byte{zip.Bytes()}, now); err != nil {
			return nil, fmt.Errorf("receiver %q: %w", s.Phones[i].ID, err)
		}
		byPair := map[[2]string]*Exposure{}
		// Every window, also of days the replay's configuration drops, so
		// that Score can weigh them under another.
		pair := func(key, day string) (*Exposure, error) {
			o, ok := owner[key]
			if !ok {
				return nil, fmt.Errorf("receiver %q: exposure to key %s that no transmitter published", s.Phones[i].ID, key)
			}
			k := [2]string{s.Phones[o].ID, day}
			if byPair[k] == nil {
				byPair[k] = &Exposure{Session: s.Name, Receiver: s.Phones[i].ID, Transmitter: s.Phones[o].ID, Day: day}
			}
			return byPair[k], nil
		}
		for key, ws := range e.ExposureWindows(now) {
			for _, w := range ws {
				x, err := pair(key, w.Day.String())
				if err != nil {
					return nil, err
				}
				x.Windows = append(x.Windows, w)
			}
		}
		for _, d := range e.Exposures(now) {
			x, err := pair(d.Key, d.Day)
			if err != nil {
				return nil, err
			}
			x.Days = append(x.Days, d)
		}
		for _, x := range byPair {
			out = append(out, *x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].less(out[j]) })
	return out, nil
}

func (x Exposure) less(y Exposure) bool {
	if x.Session != y.Session {
		return x.Session < y.Session
	}
	if x.Receiver != y.Receiver {
		return x.Receiver < y.Receiver
	}
	if x.Transmitter != y.Transmitter {
		return x.Transmitter < y.Transmitter
	}
	return x.Day < y.Day
}
