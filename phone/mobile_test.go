package phone

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// appAPI is a loopback server speaking the app API's side of an upload, and
// recording what each request looked like on the wire.
type appAPI struct {
	mu   sync.Mutex
	seen []seenRequest
	keys int
}

type seenRequest struct {
	path    string
	size    int
	headers int // bytes of the headers the client set
	chaff   bool
	apiKey  string
	app     string
}

func (s *appAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var pub api.Publish
	json.Unmarshal(body, &pub)
	headers := 0
	for k, v := range r.Header {
		if k != "Accept-Encoding" && k != "User-Agent" && k != "Content-Length" {
			headers += len(k) + len(strings.Join(v, ","))
		}
	}
	s.mu.Lock()
	s.seen = append(s.seen, seenRequest{r.URL.Path, len(body), headers, r.Header.Get(api.ChaffHeader) == api.ChaffFake || r.Header.Get(api.ENChaffHeader) != "",
		r.Header.Get(api.APIKeyHeader), pub.HealthAuthorityID})
	s.mu.Unlock()
	var out any
	switch r.URL.Path {
	case api.PathENVerify:
		out = api.VerifyCodeResponse{Token: "tok", TestType: "confirmed", SymptomDate: day0.Add(48 * time.Hour).Format(time.DateOnly)}
	case api.PathENCertificate:
		out = api.VerificationCertificateResponse{Certificate: "cert"}
	case api.PathENPublish:
		s.mu.Lock()
		s.keys = len(pub.Keys)
		s.mu.Unlock()
		out = api.ENPublishResponse{InsertedExposures: len(pub.Keys), RevisionToken: "rev"}
	default:
		http.NotFound(w, r)
		return
	}
	json.NewEncoder(w).Encode(out)
}

// TestMobileUploadAndChaffLookAlike: the gomobile wrappers upload through
// the three requests, and chaff sends the same three, each the same size on
// the wire as the real one.
func TestMobileUploadAndChaffLookAlike(t *testing.T) {
	h := &appAPI{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := newPhone(t, -8)
	now := day0.Add(3*24*time.Hour + 9*time.Hour).Unix()
	for d := int64(0); d <= 3; d++ { // a key a day
		if _, err := e.Advertisement(day0.Unix() + d*secondsPerDay + 3600); err != nil {
			t.Fatal(err)
		}
	}
	before := len(e.state.Keys)
	res, err := e.UploadWithCode(srv.URL, "key1", "vn.gov.bluezone", " 12345678 ", now)
	if err != nil {
		t.Fatal(err)
	}
	// Test date day0+2: keys from day0 on, so all four.
	if res.Keys != 4 || res.Inserted != 4 || h.keys != 4 || res.ReportType != "CONFIRMED_TEST" {
		t.Errorf("upload %+v, server saw %d keys: want 4", res, h.keys)
	}
	if e.state.RevisionToken != "rev" {
		t.Errorf("revision token %q kept, want the publish's", e.state.RevisionToken)
	}
	if len(e.state.Keys) != before+1 {
		t.Errorf("%d keys after upload, want a new one started (%d before)", len(e.state.Keys), before)
	}
	if err := e.SendChaffTo(srv.URL, "key1", "vn.gov.bluezone"); err != nil {
		t.Fatal(err)
	}
	if len(h.seen) != 6 {
		t.Fatalf("%d requests, want 3 real and 3 chaff", len(h.seen))
	}
	for i := range 3 {
		real, fake := h.seen[i], h.seen[i+3]
		if real.path != fake.path || real.size != fake.size || real.headers != fake.headers || real.chaff || !fake.chaff {
			t.Errorf("request %d: real %+v, chaff %+v: want the same path and sizes", i, real, fake)
		}
		if real.path != api.PathENPublish && (real.apiKey != "key1" || fake.apiKey != "key1") {
			t.Errorf("request %d: API keys %q, %q", i, real.apiKey, fake.apiKey)
		}
		if real.path == api.PathENPublish && (real.app != "vn.gov.bluezone" || fake.app != "vn.gov.bluezone") {
			t.Errorf("publish: healthAuthorityID %q, %q", real.app, fake.app)
		}
	}
}

// TestMobileSyncAndMatch: SyncServer and MatchExport, the wrappers apps call.
func TestMobileSyncAndMatch(t *testing.T) {
	auth := newAuthority(t)
	a := newPhone(t, -8)
	start := day0.Add(9 * time.Hour)
	now := start.Add(24 * time.Hour).Unix()
	for _, via := range []string{"SyncServer", "MatchExport"} {
		t.Run(via, func(t *testing.T) {
			b := newPhone(t, -8)
			b.PinPublicKey(auth.pem)
			meet(t, a, b, start, 20*time.Minute, -60)
			zip := auth.export(t, published(a.DiagnosisKeys(day0.Unix(), now), export.ReportConfirmedTest), nil)
			var rep *MatchReport
			var err error
			if via == "SyncServer" {
				srv := exportServer(t, map[string][]byte{"1.zip": zip}, []string{"1.zip"}, nil)
				rep, err = b.SyncServer(srv.URL, now)
			} else {
				rep, err = b.MatchExport(zip, now)
			}
			if err != nil || rep.Matched != 1 {
				t.Fatalf("%s: %+v, %v", via, rep, err)
			}
			if w := b.Warning(now); w.Level != LevelF1 {
				t.Errorf("warning %+v", w)
			}
		})
	}
}

// TestChaffSchedule: the first call starts the schedule; chaff is then due
// 12 to 36 hours later, never before, and each time the next is drawn anew.
func TestChaffSchedule(t *testing.T) {
	e := newPhone(t, -8)
	now := day0.Unix()
	if due, err := e.ChaffDue(now); err != nil || due {
		t.Fatalf("first call: due %v, %v; want the schedule started, nothing due", due, err)
	}
	next := e.state.NextChaff
	if next < now+12*3600 || next >= now+36*3600 {
		t.Fatalf("next chaff %d s after now, want 12 to 36 h", next-now)
	}
	if due, _ := e.ChaffDue(next - 1); due {
		t.Error("due one second early")
	}
	if due, _ := e.ChaffDue(next); !due {
		t.Error("not due at the drawn time")
	}
	if n := e.state.NextChaff; n < next+12*3600 || n >= next+36*3600 {
		t.Errorf("after chaff, next is %d s later, want 12 to 36 h", n-next)
	}
	draws := map[int64]bool{}
	for i := range 20 {
		f := newPhone(t, -8)
		f.ChaffDue(now + int64(i))
		draws[f.state.NextChaff-int64(i)] = true
	}
	if len(draws) < 15 {
		t.Errorf("20 phones drew only %d distinct chaff times: the schedule has a rhythm", len(draws))
	}
}
