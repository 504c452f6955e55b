package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/blob"
	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// logSink collects a server's JSON log lines; the background loops write
// to it from their own goroutines.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records returns the logged records of level and message msg.
func (l *logSink) records(t *testing.T, level, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if r["level"] == level && r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// indexCounter counts the writes of index.txt: the last step of every
// export run that did not fail.
type indexCounter struct {
	server.Blobs
	n *atomic.Int32
}

func (c indexCounter) Put(ctx context.Context, name string, data []byte) error {
	err := c.Blobs.Put(ctx, name, data)
	if err == nil && name == api.IndexName {
		c.n.Add(1)
	}
	return err
}

// statsStore fails to add statistics while fail is set.
type statsStore struct {
	*store.DB
	fail bool
}

func (s statsStore) AddStat(ctx context.Context, day int64, name string, delta int64) error {
	if s.fail {
		return errors.New("statistics unavailable")
	}
	return s.DB.AddStat(ctx, day, name, delta)
}

// backgroundServer is a server logging to a sink, on the export clock,
// whose first export run is done: the next run writes the period (p0, p1],
// holding 3 keys, unless its file starts with refuse.
func backgroundServer(t *testing.T, url string, failStats bool, refuse string) (*server.Server, *store.DB, *logSink, *atomic.Int32) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir, _ := blob.NewDir(t.TempDir())
	var blobs server.Blobs = dir
	if refuse != "" {
		blobs = failingBlobs{dir, refuse}
	}
	writes := new(atomic.Int32)
	sink := &logSink{}
	s, err := server.New(ctx, server.Config{MinBatchKeys: 1}, statsStore{db, failStats}, indexCounter{blobs, writes}, slog.New(slog.NewJSONHandler(sink, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: exportStart}
	s.SetClock(c.now)
	if _, err := s.ExportOnce(ctx); err != nil {
		t.Fatal(err)
	}
	p1 := exportStart.Truncate(time.Hour).Add(time.Hour)
	storeKeys(t, db, 3, p1, 144)
	c.t = p1.Add(time.Minute)
	writes.Store(0)
	return s, db, sink, writes
}

// stop cancels a background loop and waits for it to return.
func stop(t *testing.T, cancel context.CancelFunc, done chan struct{}) {
	t.Helper()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after its context ended")
	}
}

// TestExportWorkerLogsRuns: the worker logs a run that wrote batches
// (with their number and keys) and a run that failed (with the error), and
// nothing for the many runs that find nothing due. A period failing to be
// written fails two runs, and the third gives it up (exportfailures.go).
func TestExportWorkerLogsRuns(t *testing.T) {
	p1 := exportStart.Truncate(time.Hour).Add(time.Hour)
	for _, tc := range []struct {
		name   string
		refuse string
		runs   int32 // successful runs to wait for
		info   []string
		errors int
	}{
		{"batch", "", 3, []string{"batches=1 keys=3"}, 0},
		{"failing", fmt.Sprintf("VN/%d-%d", p1.Add(-time.Hour).Unix(), p1.Unix()), 2, nil, 2},
	} {
		for _, b := range dbtest.Backends(t) {
			t.Run(tc.name+"/"+b.Name, func(t *testing.T) {
				s, _, sink, writes := backgroundServer(t, b.URL, false, tc.refuse)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				done := make(chan struct{})
				go func() { defer close(done); s.RunExportWorker(ctx, 5*time.Millisecond) }()
				// A run logs before the next one starts: once the last
				// awaited run has written index.txt, every earlier run has
				// logged.
				waitFor(t, fmt.Sprintf("%d export runs", tc.runs), func() bool { return writes.Load() >= tc.runs })
				stop(t, cancel, done)
				var info []string
				for _, r := range sink.records(t, "INFO", "export worker") {
					info = append(info, fmt.Sprintf("batches=%v keys=%v", r["batches"], r["keys"]))
				}
				if strings.Join(info, "; ") != strings.Join(tc.info, "; ") {
					t.Errorf("info lines %q, want %q", info, tc.info)
				}
				errs := sink.records(t, "ERROR", "export worker")
				for _, r := range errs {
					if msg, _ := r["err"].(string); !strings.Contains(msg, "storage refuses") {
						t.Errorf("error line with err %v, want the storage's error", r["err"])
					}
				}
				if len(errs) != tc.errors {
					t.Errorf("%d error lines, want %d", len(errs), tc.errors)
				}
			})
		}
	}
}

// TestRunBackgroundFinalFlush: when RunBackground ends it flushes the
// statistics once more, and logs an error only when that flush fails.
func TestRunBackgroundFinalFlush(t *testing.T) {
	for _, fail := range []bool{false, true} {
		for _, b := range dbtest.Backends(t) {
			t.Run(fmt.Sprintf("fail=%v/%s", fail, b.Name), func(t *testing.T) {
				s, db, sink, writes := backgroundServer(t, b.URL, fail, "")
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				done := make(chan struct{})
				go func() { defer close(done); s.RunBackground(ctx, 5*time.Millisecond) }()
				waitFor(t, "the batch", func() bool { return writes.Load() >= 1 })
				stop(t, cancel, done)
				logged := sink.records(t, "ERROR", "statistics")
				stats, err := db.Stats(context.Background(), 0)
				if err != nil {
					t.Fatal(err)
				}
				exports := int64(0)
				for _, day := range stats {
					exports += day["exports"]
				}
				if fail {
					// The periodic flush (every 10 s) may have failed too.
					if len(logged) == 0 || exports != 0 {
						t.Errorf("failed flush: %d error lines, %d exports counted; want an error logged and nothing counted", len(logged), exports)
					}
					return
				}
				if len(logged) != 0 || exports != 1 {
					t.Errorf("flush: error lines %v, %d exports counted; want none and the 1 batch", logged, exports)
				}
			})
		}
	}
}

// TestExportRunKeepsVerifyAttempts: the export run prunes only
// verification attempts older than the longest limit's window (an hour), so
// a client that used up its hourly attempts is still refused after a run
// within that hour, and served again once the hour has passed.
func TestExportRunKeepsVerifyAttempts(t *testing.T) {
	const perHour = 3
	for _, b := range dbtest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			e := newEnv(t, b.URL, server.Config{VerifyPerAddressPerMinute: perHour, VerifyPerAddressPerHour: perHour})
			ctx := context.Background()
			first := e.clock.now()
			verify := func(i int) verifyAnswer {
				t.Helper()
				a, err := tryVerify(e.http.URL, fmt.Sprintf("%08d", 10000000+i), "", false)
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			for i := range perHour {
				if a := verify(i); a.status == 429 {
					t.Fatalf("attempt %d refused: %+v", i+1, a)
				}
			}
			for _, tc := range []struct {
				after   time.Duration
				refused bool
			}{
				{0, true},
				{2 * time.Minute, true}, // past the minute window
				{59 * time.Minute, true},
				{time.Hour + time.Second, false},
			} {
				e.clock.t = first.Add(tc.after)
				if _, err := e.srv.ExportOnce(ctx); err != nil {
					t.Fatal(err)
				}
				if a := verify(99); (a.status == 429) != tc.refused {
					t.Fatalf("%v after the attempts, past an export run: %+v, want refused %v", tc.after, a, tc.refused)
				}
			}
		})
	}
}
