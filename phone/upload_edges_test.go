package phone

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol"
)

// uploadServer is the app API's three upload endpoints on loopback: it
// answers verify with testType and symptomDate, publish with exportAfter
// (if set), and records the keys of every publish.
type uploadServer struct {
	mu          sync.Mutex
	testType    string
	symptomDate time.Time
	exportAfter string
	published   [][]api.ExposureKey
}

func (s *uploadServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var out any
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case api.PathENVerify:
		out = api.VerifyCodeResponse{Token: "tok", TestType: s.testType, SymptomDate: s.symptomDate.Format(time.DateOnly)}
	case api.PathENCertificate:
		out = api.VerificationCertificateResponse{Certificate: "cert"}
	case api.PathENPublish:
		var pub api.Publish
		if err := json.NewDecoder(r.Body).Decode(&pub); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.published = append(s.published, pub.Keys)
		out = api.ENPublishResponse{InsertedExposures: len(pub.Keys), RevisionToken: "rev", ExportAfter: s.exportAfter}
	default:
		http.NotFound(w, r)
		return
	}
	json.NewEncoder(w).Encode(out)
}

// lastPublish returns the keys of the latest publish, by TEK.
func (s *uploadServer) lastPublish(t *testing.T) map[protocol.TEK]api.ExposureKey {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.published) == 0 {
		t.Fatal("nothing published")
	}
	out := map[protocol.TEK]api.ExposureKey{}
	for _, k := range s.published[len(s.published)-1] {
		b, err := base64.StdEncoding.DecodeString(k.Key)
		if err != nil || len(b) != len(protocol.TEK{}) {
			t.Fatalf("published key %q is not a TEK", k.Key)
		}
		out[protocol.TEK(b)] = k
	}
	return out
}

func newUploadServer(t *testing.T, testType string, symptomDate time.Time) (*uploadServer, *Client) {
	s := &uploadServer{testType: testType, symptomDate: symptomDate}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, &Client{BaseURL: hs.URL}
}

// phoneWithDailyKeys is a phone that broadcast on days day0..day0+days-1,
// so that it has one key a day, each starting at midnight (UTC).
func phoneWithDailyKeys(t *testing.T, days int) *Engine {
	t.Helper()
	e := newPhone(t, -8)
	for d := range days {
		if _, err := e.Advertisement(day0.Add(time.Duration(d)*24*time.Hour + time.Hour).Unix()); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func interval(at time.Time) uint32 { return protocol.IntervalNumber(at) }

// TestUploadCutsTheKeyInUseAtTheUploadInterval: an F0 upload sends every key
// since two days before the test date whole, except the key in use, which
// goes out cut at the upload's interval (docs/api.md, docs/privacy.md: the
// rest of its day is never broadcast). A key started in the very interval
// of the upload goes out as that one interval. The embargo ends 2 h after
// the end of the last key sent.
func TestUploadCutsTheKeyInUseAtTheUploadInterval(t *testing.T) {
	day := func(d int) time.Time { return day0.Add(time.Duration(d) * 24 * time.Hour) }
	for _, tc := range []struct {
		name string
		at   time.Time // upload time
		// wantCount is the interval count of the key of day 3, cut;
		// days 1 and 2 go whole (144), day 0 is before the window.
		wantCount int32
	}{
		{"mid-day", day(3).Add(9*time.Hour + 3*time.Minute), 9 * 6},
		{"in the key's first interval", day(3).Add(4 * time.Minute), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := phoneWithDailyKeys(t, 4)
			keys := e.DiagnosisKeys(day0.Unix(), tc.at.Unix())
			if len(keys) != 4 {
				t.Fatalf("%d keys, want one a day for 4 days", len(keys))
			}
			s, c := newUploadServer(t, api.TestTypeConfirmed, day(3))
			res, err := e.Upload(context.Background(), c, "12345678", tc.at.Unix())
			if err != nil {
				t.Fatal(err)
			}
			sent := s.lastPublish(t)
			if len(sent) != 3 || res.Keys != 3 || res.Published != 0 {
				t.Fatalf("sent %d keys (result %+v), want days 1 to 3", len(sent), res)
			}
			for d, k := range keys {
				got, ok := sent[k.TEK]
				want := int32(144)
				if d == 3 {
					want = tc.wantCount
				}
				switch {
				case d == 0 && ok:
					t.Errorf("day 0's key sent, want only from two days before the test date")
				case d > 0 && !ok:
					t.Errorf("day %d's key not sent", d)
				case d > 0 && (got.IntervalNumber != int32(interval(day(d))) || got.IntervalCount != want):
					t.Errorf("day %d's key sent from %d for %d intervals, want from %d for %d", d, got.IntervalNumber, got.IntervalCount, interval(day(d)), want)
				}
			}
			// The last key sent ends at the start of day 3 plus its count.
			wantEmbargo := protocol.IntervalTime(interval(day(3)) + uint32(tc.wantCount)).Add(2 * time.Hour).Unix()
			if res.EmbargoEnd != wantEmbargo || res.ExportAfter != wantEmbargo {
				t.Errorf("embargo ends %s, export after %s; want both %s (the server did not say)",
					time.Unix(res.EmbargoEnd, 0).UTC(), time.Unix(res.ExportAfter, 0).UTC(), time.Unix(wantEmbargo, 0).UTC())
			}
			// Only the keys sent are marked published: day 0's stays unpublished.
			for d, k := range e.DiagnosisKeys(day0.Unix(), tc.at.Unix()) {
				if d > 3 {
					break // the key started by the upload
				}
				want := "CONFIRMED_TEST"
				if d == 0 {
					want = ""
				}
				if k.Published != want {
					t.Errorf("day %d's key marked published %q, want %q", d, k.Published, want)
				}
			}
		})
	}
}

// TestUploadTakesTheServersExportTime: the result's ExportAfter is the
// publish answer's exportAfter when the server gives one.
func TestUploadTakesTheServersExportTime(t *testing.T) {
	e := phoneWithDailyKeys(t, 1)
	s, c := newUploadServer(t, api.TestTypeConfirmed, day0)
	exportAt := day0.Add(5 * time.Hour)
	s.exportAfter = exportAt.Format(time.RFC3339)
	res, err := e.Upload(context.Background(), c, "12345678", day0.Add(2*time.Hour).Unix())
	if err != nil {
		t.Fatal(err)
	}
	if res.ExportAfter != exportAt.Unix() {
		t.Errorf("export after %s, want the server's %s", time.Unix(res.ExportAfter, 0).UTC(), exportAt)
	}
	if want := day0.Add(4 * time.Hour).Unix(); res.EmbargoEnd != want {
		t.Errorf("embargo ends %s, want 2 h after the upload's interval", time.Unix(res.EmbargoEnd, 0).UTC())
	}
}

// TestUploadLeavesOutWhatIsPublishedAlready: a second upload of the same
// type re-sends nothing; with nothing else to send it fails with
// ErrPublishedAlready, and a phone with no key in the code's dates fails
// otherwise. An F0 given an F1 code later sends only its newer keys and
// succeeds.
func TestUploadLeavesOutWhatIsPublishedAlready(t *testing.T) {
	day := func(d int) time.Time { return day0.Add(time.Duration(d) * 24 * time.Hour) }

	t.Run("same type again", func(t *testing.T) {
		e := phoneWithDailyKeys(t, 2)
		// In the key's first interval: the next key starts at the next
		// interval, so the phone has no unpublished key at this time.
		at := day(1).Add(time.Minute).Unix()
		s, c := newUploadServer(t, api.TestTypeConfirmed, day(1))
		if _, err := e.Upload(context.Background(), c, "12345678", at); err != nil {
			t.Fatal(err)
		}
		_, err := e.Upload(context.Background(), c, "87654321", at)
		if !errors.Is(err, ErrPublishedAlready) {
			t.Errorf("second upload: %v, want ErrPublishedAlready", err)
		}
		if len(s.published) != 1 {
			t.Errorf("%d publishes, want the first only", len(s.published))
		}
	})

	t.Run("no keys in the dates", func(t *testing.T) {
		e := phoneWithDailyKeys(t, 1)
		// An F1 exposed tomorrow: the phone has no key from then on.
		_, c := newUploadServer(t, api.TestTypeRecursive, day(1))
		_, err := e.Upload(context.Background(), c, "12345678", day0.Add(2*time.Hour).Unix())
		if err == nil || errors.Is(err, ErrPublishedAlready) {
			t.Errorf("upload: %v, want an error other than ErrPublishedAlready", err)
		}
	})

	t.Run("F0 then F1 code", func(t *testing.T) {
		e := phoneWithDailyKeys(t, 2)
		s, c := newUploadServer(t, api.TestTypeConfirmed, day(1))
		if _, err := e.Upload(context.Background(), c, "12345678", day(1).Add(3*time.Hour).Unix()); err != nil {
			t.Fatal(err)
		}
		// Later, an F1 code exposed on day 1: day 0's and day 1's first
		// key are published as stronger, only the key started since goes.
		s.testType = api.TestTypeRecursive
		at := day(1).Add(6 * time.Hour)
		res, err := e.Upload(context.Background(), c, "87654321", at.Unix())
		if err != nil {
			t.Fatal(err)
		}
		sent := s.lastPublish(t)
		if len(sent) != 1 || res.Keys != 1 || res.Published != 1 || res.ReportType != "RECURSIVE" {
			t.Fatalf("sent %d keys, result %+v; want the one key since the first upload, one left out", len(sent), res)
		}
		for _, k := range sent {
			if from := interval(day(1).Add(3 * time.Hour)); k.IntervalNumber != int32(from) || k.IntervalCount != int32(interval(at)-from) {
				t.Errorf("sent from %d for %d intervals, want from %d cut at %d", k.IntervalNumber, k.IntervalCount, from, interval(at))
			}
		}
	})
}
