package sim

import (
	"context"
	"github.com/bluezone-vn/bluezone/protocol"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// dayTally is what one worker saw of a day.
type dayTally struct {
	newInf    int
	sightings int64
	scans     int64
	// close sums the minutes each pair spent within 2 m, when tracking.
	close map[uint64]uint16
}

func newTally(track bool) *dayTally {
	t := &dayTally{}
	if track {
		t.close = map[uint64]uint16{}
	}
	return t
}

// add merges o into t.
func (t *dayTally) add(o *dayTally) {
	t.newInf += o.newInf
	t.sightings += o.sightings
	t.scans += o.scans
	for k, v := range o.close {
		t.close[k] += v
	}
}

// pairKey numbers an unordered pair of people.
func pairKey(a, b int) uint64 {
	if a > b {
		a, b = b, a
	}
	return uint64(a)<<32 | uint64(b)
}

func pairOf(k uint64) (int, int) { return int(k >> 32), int(k & 0xffffffff) }

// worker is one goroutine's reusable scratch space.
type worker struct {
	tally      *dayTally
	mob, radio rand.PCG
	mobR       *rand.Rand
	radioR     *rand.Rand
	xs, ys     []float64
	near       [][]neighbour
}

func (w *world) newWorker(track bool) *worker {
	k := &worker{tally: newTally(track)}
	k.mobR, k.radioR = rand.New(&k.mob), rand.New(&k.radio)
	return k
}

// parallel calls f(k, i) for i in [0, n) on the world's workers, stopping at
// the first error.
func parallel(ctx context.Context, workers []*worker, n, chunk int, f func(k *worker, i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, len(workers))
	for j, k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if ctx.Err() != nil {
					errs[j] = ctx.Err()
					return
				}
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				for i := lo; i < min(lo+chunk, n); i++ {
					if err := f(k, i); err != nil {
						errs[j] = err
						next.Store(int64(n)) // stop the others
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkpointMinutes: simulated phones write closed sightings every two hours,
// bounding the memory a hundred thousand phones hold.
const checkpointMinutes = 120

// simulateDay moves everyone through the day in 10-minute slots. Places are
// visited in parallel; each draws from its own random streams, so the result
// does not depend on the number of workers or their timing. With track set
// it records the ground truth. Each person's visited lists the places of the
// day.
func (w *world) simulateDay(ctx context.Context, workers []*worker, day int, track bool) (*dayTally, error) {
	for _, p := range w.people {
		p.marketToday = -1
		if w.rng.Float64() < 0.3 {
			p.marketToday = w.rng.IntN(w.places(market))
		}
		p.carriage = w.cfg.Radio.pickCarriage(w.rng.Float64())
		p.visited = p.visited[:0]
	}
	for _, k := range workers {
		k.tally = newTally(track)
	}
	start := w.dayStart(day)
	phones := w.phones()
	nPlaces := w.placeBase[placeKinds]
	count := make([]int32, nPlaces+1)
	fill := make([]int32, nPlaces)
	placeOf := make([]int32, len(w.people))
	members := make([]*person, len(w.people))
	var busy []int32
	for slot := 0; slot < 24*60/slotMinutes; slot++ {
		m := slot * slotMinutes
		now := day*24*60 + m
		clear(count)
		for i, p := range w.people {
			switch {
			case p.state == exposed && now >= p.infectiousAt:
				p.state = infectious
			case p.state == infectious && now >= p.recoversAt:
				p.state = recovered
			}
			pl := w.place(p, now, m)
			placeOf[i] = int32(pl)
			if !slices.Contains(p.visited, int32(pl)) {
				p.visited = append(p.visited, int32(pl))
			}
			count[pl+1]++
		}
		busy = busy[:0]
		for pl := 0; pl < nPlaces; pl++ {
			if count[pl+1] > 1 {
				busy = append(busy, int32(pl))
			}
			count[pl+1] += count[pl] // count[pl] is now where place pl starts
		}
		copy(fill, count[:nPlaces])
		for i, p := range w.people {
			members[fill[placeOf[i]]] = p
			fill[placeOf[i]]++
		}
		// Each phone's broadcast during the slot, as its platform would
		// set it: the identifier at the slot's start, then the next one
		// from when the engine says to rotate.
		slotStart := start.Add(time.Duration(m) * time.Minute).Unix()
		if err := parallel(ctx, workers, len(phones), 256, func(_ *worker, i int) error {
			p := phones[i]
			p.scan.advance(slotStart, slotStart+slotMinutes*60)
			var err error
			if p.next != nil && slotStart < p.next.RotateAt {
				p.adv = p.next // what it broadcast at the end of the last slot
			} else if p.adv, err = p.phone.Advertisement(slotStart); err != nil {
				return err
			}
			p.next = p.adv
			if p.adv.RotateAt < slotStart+slotMinutes*60 {
				p.next, err = p.phone.Advertisement(p.adv.RotateAt)
			}
			return err
		}); err != nil {
			return nil, err
		}
		err := parallel(ctx, workers, len(busy), 16, func(k *worker, i int) error {
			pl := int(busy[i])
			return w.meet(k, day, slot, pl, members[count[pl]:count[pl+1]], start)
		})
		if err != nil {
			return nil, err
		}
		// Phones alone in their place scan too, and hear nothing.
		if err := parallel(ctx, workers, len(phones), 256, func(k *worker, i int) error {
			p := phones[i]
			if pl := placeOf[p.id]; count[pl+1]-count[pl] > 1 {
				return nil // meet handled it
			}
			for _, at := range p.scan.slot {
				if err := p.phone.RecordScan(at); err != nil {
					return err
				}
			}
			k.tally.scans += int64(len(p.scan.slot))
			return nil
		}); err != nil {
			return nil, err
		}
		if w.onSlot != nil {
			w.onSlot(day, slot)
		}
		if (m+slotMinutes)%checkpointMinutes == 0 {
			at := start.Add(time.Duration(m+slotMinutes) * time.Minute).Unix()
			if err := parallel(ctx, workers, len(phones), 256, func(_ *worker, i int) error {
				return phones[i].phone.Checkpoint(at)
			}); err != nil {
				return nil, err
			}
		}
	}
	if err := parallel(ctx, workers, len(phones), 256, func(_ *worker, i int) error {
		return phones[i].phone.Flush()
	}); err != nil {
		return nil, err
	}
	total := workers[0].tally
	for _, k := range workers[1:] {
		total.add(k.tally)
	}
	return total, nil
}

// phones returns the people with the app, in order.
func (w *world) phones() []*person {
	var out []*person
	for _, p := range w.people {
		if p.phone != nil {
			out = append(out, p)
		}
	}
	return out
}

// meet places the people of one place at random and lets every pair in
// hearing range infect and hear each other during one slot.
func (w *world) meet(k *worker, day, slot, place int, g []*person, start time.Time) error {
	k.mob.Seed(splitmix(w.cfg.Seed), splitmix(uint64(day)<<48|uint64(slot)<<36|uint64(place)))
	k.radio.Seed(splitmix(w.cfg.Seed^1<<62), splitmix(uint64(day)<<48|uint64(slot)<<36|uint64(place)))
	size := placeSize[w.kindOf(place)]
	k.xs, k.ys = k.xs[:0], k.ys[:0]
	for range g {
		k.xs = append(k.xs, k.mobR.Float64()*size[0])
		k.ys = append(k.ys, k.mobR.Float64()*size[1])
	}
	m := slot * slotMinutes
	now := day*24*60 + m
	t := k.tally
	// Counts are kept locally: the workers' tallies may share a cache line.
	newInf, sightings := 0, int64(0)
	defer func() { t.newInf, t.sightings = t.newInf+newInf, t.sightings+sightings }()
	// Each phone's neighbours in hearing range, with the attenuation
	// between them during the slot: the median at their distance, their
	// carriage, and the pair's draw of multipath and body angle.
	radio := &w.cfg.Radio
	spread := radio.encounterSigma()
	for len(k.near) < len(g) {
		k.near = append(k.near, nil)
	}
	for i := range g {
		k.near[i] = k.near[i][:0]
	}
	for i, a := range g {
		for j := i + 1; j < len(g); j++ {
			b := g[j]
			d := math.Hypot(k.xs[i]-k.xs[j], k.ys[i]-k.ys[j])
			if d > radio.HearingRange {
				continue
			}
			if d <= closeDist && t.close != nil {
				t.close[pairKey(a.id, b.id)] += slotMinutes
			}
			newInf += w.transmit(k.mobR, a, b, d, now) + w.transmit(k.mobR, b, a, d, now)
			if a.phone == nil || b.phone == nil || a.iOS && b.iOS { // iOS background pairs are deaf
				continue
			}
			att := radio.Median(d) + radio.CarriageLoss[a.carriage] + radio.CarriageLoss[b.carriage] + k.radioR.NormFloat64()*spread
			k.near[i] = append(k.near[i], neighbour{int32(j), att})
			k.near[j] = append(k.near[j], neighbour{int32(i), att})
		}
	}
	// Each phone scans on its own schedule and hears its neighbours then;
	// one receiver at a time keeps its engine's data in the cache. Every
	// scan is told to the engine, heard or not.
	scans := int64(0)
	defer func() { t.scans += scans }()
	for i, rx := range g {
		if rx.phone == nil {
			continue
		}
		for _, at := range rx.scan.slot {
			for _, n := range k.near[i] {
				heard, err := hear(k.radioR, radio, rx, g[n.who], n.att, at)
				if err != nil {
					return err
				}
				if heard {
					sightings++
				}
			}
			if err := rx.phone.RecordScan(at); err != nil {
				return err
			}
		}
		scans += int64(len(rx.scan.slot))
	}
	return nil
}

// neighbour is a phone in hearing range during a slot.
type neighbour struct {
	who int32   // index in the place's people
	att float64 // dB, for the slot, before each scan's fading and the phones' errors
}

// transmit infects to from by with a hazard growing with closeness.
func (w *world) transmit(rng *rand.Rand, by, to *person, d float64, now int) int {
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
	if rng.Float64() < 1-math.Exp(-w.cfg.Transmission*slotMinutes*weight) {
		w.infect(rng, to, by.id, now)
		return 1
	}
	return 0
}

// hear makes rx's phone hear tx's advertisement at Unix time t, when the
// radio lets it through. att is the pair's attenuation during the slot; the
// scan adds its fading and the two phones their residual errors, and rx's
// radio reports the RSSI that gives this attenuation with the calibrated
// TX power and RSSI correction of the two models.
func hear(rng *rand.Rand, radio *RadioModel, rx, tx *person, att float64, t int64) (bool, error) {
	mt, mr := models[tx.model], models[rx.model]
	att += rng.NormFloat64()*radio.ScanSigma + tx.txError + rx.rxError
	rssi := float64(mt.txPower-mr.rssiCorrection) - att
	if rssi < radio.Sensitivity {
		return false, nil
	}
	adv := tx.adv
	if t >= adv.RotateAt {
		adv = tx.next
	}
	return true, rx.phone.HandleServiceData(int(protocol.ServiceBluezone), adv.ServiceData, int(math.Round(min(rssi, 20))), t, mt.name)
}
