package server

import (
	"math/rand/v2"
	"sync"
	"time"
)

// chaffDelaySamples is how many recent real answers the moving average of
// chaffDelay spans: enough to smooth single slow answers, few enough to
// follow the load within minutes.
const chaffDelaySamples = 64

// maxChaffDelay bounds a chaff answer's delay, so that one very slow real
// answer cannot hold chaff requests, and their connections, for long.
const maxChaffDelay = 2 * time.Second

// chaffDelay learns how long the real answers of one endpoint take, so
// that its chaff answers take as long: a fixed delay (formerly 50 ms
// against real answers of 0.4–2 ms) told chaff apart by its timing alone.
// Like the Corona-Warn-App's submission server (its FakeDelayManager: an
// exponential moving average, Poisson jitter in milliseconds) it follows a
// moving average of real answers and draws each delay around it; here the
// mean of the last 64 and jitter uniformly from 0.5 to 1.5 times it, whose
// spread stays in proportion at the millisecond scale of our answers.
type chaffDelay struct {
	mu      sync.Mutex
	initial time.Duration
	samples [chaffDelaySamples]time.Duration
	n, next int
	sum     time.Duration
}

func newChaffDelay(initial time.Duration) *chaffDelay {
	return &chaffDelay{initial: min(initial, maxChaffDelay)}
}

// observe records how long a real answer took.
func (d *chaffDelay) observe(took time.Duration) {
	took = min(max(took, 0), maxChaffDelay)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == len(d.samples) {
		d.sum -= d.samples[d.next]
	} else {
		d.n++
	}
	d.samples[d.next] = took
	d.sum += took
	d.next = (d.next + 1) % len(d.samples)
}

// mean is the moving average, or the initial delay before any real answer.
func (d *chaffDelay) mean() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == 0 {
		return d.initial
	}
	return d.sum / time.Duration(d.n)
}

// draw returns how long the next chaff answer should take in all.
func (d *chaffDelay) draw() time.Duration {
	m := d.mean()
	return min(m/2+time.Duration(rand.Int64N(int64(m)+1)), maxChaffDelay)
}
