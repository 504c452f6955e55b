package server_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
)

// TestChaffTakesAsLongAsRealAnswers: chaff answers of verify take about as
// long as real successful ones over loopback; a fixed delay (50 ms against
// real answers of a few ms) told them apart.
func TestChaffTakesAsLongAsRealAnswers(t *testing.T) {
	e := newEnv(t, dbtest.Backends(t)[0].URL, server.Config{TrustedProxyHeader: "X-Forwarded-For"})
	const n = 30
	timed := func(code, from string, chaff bool) time.Duration {
		t0 := time.Now()
		a, err := tryVerify(e.http.URL, code, from, chaff)
		took := time.Since(t0)
		if err != nil || a.status != 200 {
			t.Fatalf("verify (chaff %v): %+v %v", chaff, a, err)
		}
		return took
	}
	var real, fake []time.Duration
	for i := 0; i < n; i++ {
		real = append(real, timed(e.issueShortCode(t), fmt.Sprintf("192.0.2.%d", i+1), false))
	}
	for i := 0; i < n; i++ {
		fake = append(fake, timed("12345678", fmt.Sprintf("198.51.100.%d", i+1), true))
	}
	slices.Sort(real)
	slices.Sort(fake)
	r, f := real[n/2], fake[n/2]
	if f > 3*r+3*time.Millisecond || f < r/3 {
		t.Fatalf("median answer: real %v, chaff %v; want chaff within a factor 3 of real", r, f)
	}
	t.Logf("median answer: real %v, chaff %v", r, f)
}
