package server_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// collidingStore refuses the first n codes it is asked to store, as when a
// drawn code is the same as a live one.
type collidingStore struct {
	server.Store
	n int
}

func (c *collidingStore) CreateCode(ctx context.Context, code store.Code) (int64, error) {
	if c.n > 0 {
		c.n--
		return 0, errors.New("UNIQUE constraint failed: codes.hmac")
	}
	return c.Store.CreateCode(ctx, code)
}

// TestIssueCodeDrawsAgainOnCollision: a code that collides with a live one
// is drawn again, up to 5 draws in all; after 5 collisions issuing fails
// with the store's error.
func TestIssueCodeDrawsAgainOnCollision(t *testing.T) {
	for _, tt := range []struct {
		collisions int
		ok         bool
	}{{0, true}, {4, true}, {5, false}} {
		var cs *collidingStore
		e := newEnvWith(t, dbtest.Backends(t)[0].URL, server.Config{}, envSetup{store: func(db *store.DB) server.Store {
			cs = &collidingStore{Store: db, n: tt.collisions}
			return cs
		}})
		c, err := e.srv.IssueCode(context.Background(), server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: e.clock.now(), IssuedBy: "o@moh.gov.vn"})
		if (err == nil) != tt.ok || (tt.ok && len(c.Code) != 8) {
			t.Errorf("%d collisions: code %+v, error %v; want issued %v", tt.collisions, c, err, tt.ok)
		}
		if cs.n != 0 {
			t.Errorf("%d collisions: %d draws left unused", tt.collisions, cs.n)
		}
	}
}

// refundRefusingStore fails every refund of a counted attempt.
type refundRefusingStore struct{ server.Store }

func (refundRefusingStore) RefundAttempt(context.Context, int64, ...string) error {
	return errors.New("refund unavailable")
}

// TestVerifyLimitErrorsAreLogged: a verification whose attempt cannot be
// given back still answers, and the failure is logged for the operator;
// when it can be, nothing is logged.
func TestVerifyLimitErrorsAreLogged(t *testing.T) {
	for _, fail := range []bool{false, true} {
		sink := &logSink{}
		o := envSetup{log: sink}
		if fail {
			o.store = func(db *store.DB) server.Store { return refundRefusingStore{db} }
		}
		e := newEnvWith(t, dbtest.Backends(t)[0].URL, server.Config{}, o)
		if a, err := tryVerify(e.http.URL, e.issueShortCode(t), "192.0.2.1", false); err != nil || a.status != 200 {
			t.Fatalf("refund failing %v: verify %+v %v", fail, a, err)
		}
		logged := sink.records(t, "ERROR", "verify limit")
		if fail && (len(logged) != 1 || logged[0]["err"] != "refund unavailable") {
			t.Errorf("failed refund: logged %v, want one error naming it", logged)
		}
		if !fail && len(logged) != 0 {
			t.Errorf("working refund: logged %v, want nothing", logged)
		}
	}
}
