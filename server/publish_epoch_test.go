package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
)

// TestKeyAtIntervalZero: the lowest rolling start is interval 0
// (1970-01-01 00:00 UTC). On a server whose clock is within the retention
// of it, a key starting there is accepted like any other, the first of the
// upload included (the overlap check starts below every valid start), and
// a negative start is refused.
func TestKeyAtIntervalZero(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{})
			e.clock.add(time.Date(1970, 1, 2, 10, 0, 0, 0, time.UTC).Sub(e.clock.now()))
			c, err := e.srv.IssueCode(context.Background(), server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), IssuedBy: "o"})
			if err != nil {
				t.Fatal(err)
			}
			keys := []api.Key{
				pinnedEKey(-1, 144), // before interval 0
				pinnedEKey(0, 144),  // 1970-01-01, the whole day
				pinnedEKey(144, 1),  // 1970-01-02 00:00
			}
			st, code, pr := pinnedEPublish(t, e, c.Code, keys, 32)
			if st != 200 {
				t.Fatalf("publish: %d %s", st, code)
			}
			if len(pr.Rejected) != 1 || pr.Rejected[0].Index != 0 || pr.Inserted != 2 {
				t.Errorf("inserted %d, rejected %+v; want 2 and only the key of start -1", pr.Inserted, pr.Rejected)
			}
		})
	}
}
