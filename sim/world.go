// Package sim is a synthetic city: people with homes, workplaces, buses and
// markets, phones with a radio model, and an epidemic. It runs the real
// phone engine for every phone with the app, against a real server reached
// over HTTP, and measures what phones decided against the ground truth.
package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/risk"
)

// Config describes a run. Zero values take the defaults of DefaultConfig.
type Config struct {
	Seed            uint64
	People          int
	Days            int
	Start           time.Time // midnight UTC of the first day
	Uptake          float64   // share of people with the app
	IOSShare        float64   // share of app users on iOS (iOS-to-iOS in background cannot hear each other)
	Consent         float64   // share of confirmed app users who upload
	InitialInfected int
	// Transmission is the infection hazard per minute at 1 m or closer.
	Transmission float64
	Risk         risk.Config
	// FullSyncPhones is how many phones (the first app users) sync every
	// morning in full, as a real phone does, sharing no work with the
	// others: the download, time and battery figures are theirs. The other
	// phones sync only when a new export holds keys of someone they heard
	// (the others could not match anything), sharing verification and
	// identifier derivation; both give the same warnings.
	FullSyncPhones int
	// Workers is how many goroutines move the city and sync phones
	// (0: one per CPU). Results do not depend on it.
	Workers int
	// Radio is the Bluetooth channel between phones.
	Radio RadioModel
	// ScanBehaviour names how phones scan (ScanBehaviourNames); Realistic
	// lets each phone scan as its OS does.
	ScanBehaviour string
	// CallbackConsent is the share of warned F1 app users who ask the
	// authority to call them back (phone.Engine.RequestCallback): the only
	// way the authority learns of them, and so of F2 warnings.
	CallbackConsent float64
}

// DefaultConfig is the small run `bluezone sim` makes with no flags.
func DefaultConfig() Config {
	return Config{
		Seed: 1, People: 600, Days: 14, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		Uptake: 0.6, IOSShare: 0.3, Consent: 0.8, CallbackConsent: 0.5, InitialInfected: 8, Transmission: 0.0015,
		Risk: risk.DefaultConfig(), FullSyncPhones: 500,
		Radio: DefaultRadio(), ScanBehaviour: Realistic,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.People < 10 {
		errs = append(errs, fmt.Errorf("people %d: want at least 10", c.People))
	}
	if c.Days < 1 || c.Days > 60 {
		errs = append(errs, fmt.Errorf("days %d: want 1..60", c.Days))
	}
	for name, v := range map[string]float64{"uptake": c.Uptake, "ios share": c.IOSShare, "consent": c.Consent, "callback consent": c.CallbackConsent} {
		if v < 0 || v > 1 {
			errs = append(errs, fmt.Errorf("%s %v: want 0..1", name, v))
		}
	}
	if c.People > maxPeople {
		errs = append(errs, fmt.Errorf("people %d: at most %d", c.People, maxPeople))
	}
	if c.FullSyncPhones < 0 || c.Workers < 0 {
		errs = append(errs, fmt.Errorf("full-sync phones %d, workers %d: want 0 or more", c.FullSyncPhones, c.Workers))
	}
	if c.InitialInfected < 1 || c.InitialInfected > c.People {
		errs = append(errs, fmt.Errorf("initial infected %d: want 1..people", c.InitialInfected))
	}
	if c.Transmission <= 0 || c.Transmission > 1 {
		errs = append(errs, fmt.Errorf("transmission %v: want a hazard per minute in (0, 1]", c.Transmission))
	}
	if err := c.Risk.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Radio.Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, err := scanBehaviourFor(c.ScanBehaviour, false); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// DiskPerPhoneDay is about what a simulated phone's sighting log takes on
// disk per day in this city (measured: 16.9 KB), with a margin.
const DiskPerPhoneDay = 20 << 10

// DiskNeeded estimates the disk a run needs for its phones' logs.
func (c Config) DiskNeeded() int64 {
	return int64(float64(c.People)*c.Uptake) * int64(c.Days) * DiskPerPhoneDay
}

// maxPeople keeps person numbers within the 32 bits pair keys use for each.
const maxPeople = 50_000_000

// Place kinds, with the area people spread over (metres).
type placeKind int

const (
	home placeKind = iota
	work
	bus
	market
	placeKinds
)

var placeSize = [placeKinds][2]float64{home: {6, 5}, work: {18, 12}, bus: {10, 2.5}, market: {30, 20}}

type health int

const (
	susceptible health = iota
	exposed
	infectious
	recovered
)

type person struct {
	id        int
	household int
	workplace int // -1: stays home
	busRoute  int // -1: does not commute by bus
	hasApp    bool
	iOS       bool
	model     int

	state        health
	infectedAt   int // minute of the run
	infectiousAt int
	recoversAt   int
	symptomatic  bool
	confirmDay   int // -1 until confirmed
	infectedBy   int
	phone        *phone.Engine
	warnedF1Day  int // -1 until warned
	warnedF2Day  int // -1 until warned F2
	// f1Exposure is, for a person the authority gave an F1 code after a
	// callback, the day of their true close contact with a case that
	// published (-1: none, a false F1 warning, or no F1 code); f1Uploaded
	// when they published with the code.
	f1Exposure  int
	f1Uploaded  bool
	uploaded    bool
	homeUntil   int // minute of the run: isolating (confirmed) or quarantined (warned)
	consents    bool
	marketToday int
	carriage    Carriage // today's
	// txError and rxError are the phone's residual errors after
	// calibration (dB, added to the attenuation it causes and reads).
	txError, rxError float64
	scan             *scanner // nil without the app
	fullSync         bool     // one of Config.FullSyncPhones
	visited          []int32  // places today
	// adv is what the phone broadcasts from the slot's start, next what it
	// broadcasts from adv.RotateAt.
	adv, next *phone.Advertisement
	storage   *phoneStorage
	// callbackAsked: the person asked the authority to call back.
	callbackAsked bool
}

// world is the population and its places.
type world struct {
	cfg Config
	// Random streams, so that a run without the app (Uptake 0) meets the
	// same people and draws the same infections until warnings change what
	// people do: rng for daily choices, apps for app ownership, and per
	// place and slot a mobility-and-epidemic stream and a radio stream
	// (see meet), so that places can be visited in parallel.
	rng    *rand.Rand
	apps   *rand.Rand
	people []*person
	// Places are numbered kind by kind: kind k's place i is placeBase[k]+i.
	placeBase [placeKinds + 1]int
	// onSlot (may be nil) is called after each slot, for progress.
	onSlot func(day, slot int)
}

func newWorld(cfg Config) *world {
	w := &world{cfg: cfg,
		rng:  rand.New(rand.NewPCG(cfg.Seed, 1)),
		apps: rand.New(rand.NewPCG(cfg.Seed, 2))}
	households := 0
	for len(w.people) < cfg.People {
		size := 1 + w.rng.IntN(5)
		for i := 0; i < size && len(w.people) < cfg.People; i++ {
			w.people = append(w.people, &person{id: len(w.people), household: households, confirmDay: -1, infectedBy: -1, warnedF1Day: -1, warnedF2Day: -1, f1Exposure: -1})
		}
		households++
	}
	counts := [placeKinds]int{home: households, work: max(1, cfg.People/15), bus: max(1, cfg.People/60), market: max(1, cfg.People/250)}
	for k := range placeKinds {
		w.placeBase[k+1] = w.placeBase[k] + counts[k]
	}
	for _, p := range w.people {
		p.workplace, p.busRoute = -1, -1
		if w.rng.Float64() < 0.75 {
			p.workplace = w.rng.IntN(counts[work])
			if w.rng.Float64() < 0.5 {
				p.busRoute = w.rng.IntN(counts[bus])
			}
		}
		p.hasApp = w.apps.Float64() < cfg.Uptake
		p.consents = w.apps.Float64() < cfg.Consent
		p.iOS = w.apps.Float64() < cfg.IOSShare && p.hasApp
		p.model = pickModel(p.iOS, w.apps.Float64())
		p.txError = w.apps.NormFloat64() * cfg.Radio.TxErrorSigma
		p.rxError = w.apps.NormFloat64() * cfg.Radio.RxErrorSigma
	}
	for _, i := range w.rng.Perm(len(w.people))[:cfg.InitialInfected] {
		w.infect(w.rng, w.people[i], -1, 0)
	}
	return w
}

func (w *world) places(k placeKind) int { return w.placeBase[k+1] - w.placeBase[k] }

// splitmix scrambles neighbouring seeds into unrelated ones (SplitMix64).
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// infect starts an infection at minute t: incubation 3–6 days, infectious
// from a day before symptoms for 7 days, 70 % symptomatic.
func (w *world) infect(rng *rand.Rand, p *person, by, t int) {
	p.state, p.infectedBy, p.infectedAt = exposed, by, t
	incubation := (3 + rng.IntN(4)) * 24 * 60
	p.infectiousAt = t + incubation - 24*60
	p.recoversAt = p.infectiousAt + 7*24*60
	p.symptomatic = rng.Float64() < 0.7
}

// place returns the number of the place where p is at minute now of the
// run, minute m of the day.
func (w *world) place(p *person, now, m int) int {
	switch h := m / 60; {
	case now < p.homeUntil || h < 7 || h >= 19:
		return w.placeBase[home] + p.household
	case p.marketToday >= 0 && h == 17:
		return w.placeBase[market] + p.marketToday
	case p.busRoute >= 0 && (m >= 7*60 && m < 7*60+40 || m >= 16*60+30 && m < 17*60+10):
		return w.placeBase[bus] + p.busRoute
	case p.workplace >= 0 && m >= 7*60+40 && m < 16*60+30:
		return w.placeBase[work] + p.workplace
	default:
		return w.placeBase[home] + p.household
	}
}

// kindOf returns the kind of place number n.
func (w *world) kindOf(n int) placeKind {
	k := home
	for n >= w.placeBase[k+1] {
		k++
	}
	return k
}
