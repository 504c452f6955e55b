package server_test

import (
	"fmt"
	"io"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestStatsPagesLogFlushErrorsOnly: the statistics page and its CSV flush
// the counters first; a flush that fails is logged (and the pages are still
// served), one that works logs no error.
func TestStatsPagesLogFlushErrorsOnly(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		for _, fail := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/flush fails %v", be.Name, fail), func(t *testing.T) {
				sink := &logSink{}
				e := newEnvWith(t, be.URL, server.Config{}, envSetup{
					log:   sink,
					store: func(db *store.DB) server.Store { return statsStore{db, fail} },
				})
				// A counter to flush; one database per backend, so one viewer
				// per subtest; signing in lands on the page, which flushes too.
				e.issueShortCode(t)
				v := e.signedIn(t, fmt.Sprintf("viewer-%v@moh.gov.vn", fail), server.RoleViewer)
				before := len(sink.records(t, "ERROR", "statistics"))
				if st, _ := v.do("GET", "/portal/stats", nil); st != 200 {
					t.Fatalf("stats page: %d", st)
				}
				resp, err := v.c.Get(e.http.URL + "/portal/stats.csv")
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("stats.csv: %d", resp.StatusCode)
				}
				logged := sink.records(t, "ERROR", "statistics")[before:]
				if !fail && before+len(logged) != 0 {
					t.Errorf("working flush: logged %v, want nothing", logged)
				}
				if fail {
					// The failed counter is kept for the next flush, which fails again.
					if len(logged) != 2 {
						t.Fatalf("failing flush: logged %v, want one error per page", logged)
					}
					for _, r := range logged {
						if r["err"] != "statistics unavailable" {
							t.Errorf("logged err %v, want the store's error", r["err"])
						}
					}
				}
			})
		}
	}
}
