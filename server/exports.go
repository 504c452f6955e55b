package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

const (
	exportLease = "export-worker"
	leaseFor    = 5 * time.Minute
)

// ExportResult says what one run of the export worker did.
type ExportResult struct {
	Batches int
	Keys    int
	Skipped bool // another replica holds the lease
}

// ExportOnce writes every export batch that has ended and is not yet written,
// refreshes index.txt and applies retention (keys, exports, codes, sessions,
// sign-in attempts, audit rows). Only the replica holding the database lease
// works; the others return at once. A crash at any point loses and
// duplicates nothing: a batch counts as written only when recorded in the
// database, after its file is complete, and a rerun rewrites the same file name.
func (s *Server) ExportOnce(ctx context.Context) (*ExportResult, error) {
	now := s.now()
	held, err := s.db.AcquireLease(ctx, exportLease, s.instance, now, now.Add(leaseFor))
	if err != nil {
		return nil, err
	}
	if !held {
		return &ExportResult{Skipped: true}, nil
	}
	defer s.db.ReleaseLease(context.WithoutCancel(ctx), exportLease, s.instance)

	res := &ExportResult{}
	start, err := s.db.LastExportEnd(ctx)
	if err != nil {
		return nil, err
	}
	if start.IsZero() {
		// Before the first batch: batches start at the period of the first
		// run (no key can have an embargo ending earlier), remembered so that
		// later runs continue from there.
		first, err := s.db.SettingOrInit(ctx, "export_first_batch_start", func() (string, error) {
			return strconv.FormatInt(now.Truncate(s.cfg.ExportPeriod).Unix(), 10), nil
		})
		if err != nil {
			return nil, err
		}
		sec, err := strconv.ParseInt(first, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("export: first batch start %q: %w", first, err)
		}
		start = time.Unix(sec, 0).UTC()
	}
	if err := s.publishSigningKeys(ctx); err != nil {
		return nil, err
	}
	if err := s.ensureRiskConfigPublished(ctx); err != nil {
		return nil, err
	}
	failures, err := s.periodFailures(ctx)
	if err != nil {
		return nil, err
	}
	// Batches end on period boundaries; only after an early batch of
	// DemoReleaseNow does the first one start off a boundary, and it ends at
	// the next one, so that the grid is kept.
	for end := start.Truncate(s.cfg.ExportPeriod).Add(s.cfg.ExportPeriod); !end.After(now); end = end.Add(s.cfg.ExportPeriod) {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if failures.givenUp(end) {
			continue // its keys go out with the next period's
		}
		n, err := s.writeBatch(ctx, start, end)
		if err != nil {
			if !s.failPeriod(ctx, failures, end, err) {
				return res, err
			}
			continue
		}
		if err := s.forgetFailures(ctx, failures, end); err != nil {
			return res, err
		}
		start = end
		res.Batches++
		res.Keys += n
		// Keep the lease while catching up on many batches.
		if _, err := s.db.AcquireLease(ctx, exportLease, s.instance, s.now(), s.now().Add(leaseFor)); err != nil {
			return res, err
		}
	}
	if s.cfg.DemoReleaseNow {
		// Keys due before the current batch ends go out now, in an early
		// batch up to this second, rather than at the batch's end.
		if err := s.writeEarlyBatch(ctx, res, start, now.Truncate(time.Second)); err != nil {
			return res, err
		}
	}
	old, err := s.db.DeleteBefore(ctx, now.Add(-s.cfg.Retention))
	if err != nil {
		return res, err
	}
	for _, name := range old {
		if err := s.blobs.Delete(ctx, name); err != nil {
			return res, err
		}
	}
	if err := s.db.PruneAttempts(ctx, now.Add(-attemptsKeptFor)); err != nil {
		return res, err
	}
	if _, err := s.db.PruneAudit(ctx, now.Add(-auditRetention)); err != nil {
		return res, err
	}
	if err := s.db.PruneAccountTokens(ctx, now); err != nil {
		return res, err
	}
	if err := s.pruneCallbacks(ctx, now); err != nil {
		return res, err
	}
	extra, hookErr := s.hookedExports(ctx, now) // server/exporthook.go
	return res, errors.Join(s.writeIndex(ctx, now, extra), hookErr)
}

// writeEarlyBatch writes the batch (start, end] if any key or revocation is
// due in it (DemoReleaseNow only: empty early batches would only add files).
func (s *Server) writeEarlyBatch(ctx context.Context, res *ExportResult, start, end time.Time) error {
	if !end.After(start) {
		return nil
	}
	keys, revoked, err := s.db.BatchKeys(ctx, start, end)
	if err != nil {
		return err
	}
	if len(keys) == 0 && len(revoked) == 0 {
		return nil
	}
	n, err := s.writeBatch(ctx, start, end)
	if err != nil {
		return err
	}
	res.Batches++
	res.Keys += n
	return nil
}

// DefaultMaxKeysPerFile is how many keys one export file holds at most by
// default. EN allows 750 000 (about 24 MB), but a phone on a weak 2G link
// (5 kB/s) needs over an hour for such a file and starts again from nothing
// when the link drops; 30 000 keys (under 1 MB, about three minutes there) is
// what Google's key server wrote per file (EXPORT_FILE_MAX_RECORDS), and
// still only 47 files for a period of 100 000 uploads of 14 keys.
const DefaultMaxKeysPerFile = 30_000

// batchName names file num of size of the period (start, end]: a period in
// one file keeps the name it always had.
func (s *Server) batchName(start, end time.Time, num, size int) string {
	if size == 1 {
		return fmt.Sprintf("%s/%d-%d.zip", s.cfg.Region, start.Unix(), end.Unix())
	}
	return fmt.Sprintf("%s/%d-%d-%d.zip", s.cfg.Region, start.Unix(), end.Unix(), num)
}

// writeBatch writes the period (start, end] as export files of at most
// MaxKeysPerFile keys each, numbered 1..N in their headers, then records
// them as one export. Keys are split in the order of their bytes, so that a
// file says nothing about when its keys arrived, and every file is padded
// with random keys up to MinBatchKeys.
func (s *Server) writeBatch(ctx context.Context, start, end time.Time) (int, error) {
	keys, revoked, err := s.db.BatchKeys(ctx, start, end)
	if err != nil {
		return 0, err
	}
	signers, err := s.exportSigners(ctx)
	if err != nil {
		return 0, err
	}
	entries := make([]export.Key, 0, len(keys)+len(revoked))
	nKeys, nRevoked := 0, 0
	for _, k := range keys {
		if e := toExportKey(k, export.ReportType(k.ReportType)); s.exportable(ctx, e) {
			entries = append(entries, e)
			nKeys++
		}
	}
	keys = nil // the period's keys may be many: keep one copy only
	for _, k := range revoked {
		// Revoked keys, and keys whose report type a phone revised (F1 → F0),
		// go out as revised keys.
		if e := toExportKey(k, revisedReportType(k)); s.exportable(ctx, e) {
			entries = append(entries, e)
			nRevoked++
		}
	}
	sortKeys(entries[:nKeys])
	sortKeys(entries[nKeys:])
	size := max(1, (len(entries)+s.cfg.MaxKeysPerFile-1)/s.cfg.MaxKeysPerFile)
	rec := store.Export{Start: start, End: end, Keys: nKeys, Revised: nRevoked}
	for i := range size {
		// Even shares, so that the files of a period are alike in size.
		lo, hi := i*len(entries)/size, (i+1)*len(entries)/size
		f := &export.File{Start: start, End: end, Region: s.cfg.Region, BatchNum: int32(i + 1), BatchSize: int32(size)}
		for j := lo; j < hi; j++ {
			if j >= nKeys { // entries[nKeys:] are the revised keys
				f.Revised = append(f.Revised, entries[j])
			} else {
				f.Keys = append(f.Keys, entries[j])
			}
		}
		padding := max(0, s.cfg.MinBatchKeys-(hi-lo))
		f.Keys = append(f.Keys, fillerKeys(padding, end)...)
		var buf bytes.Buffer
		if err := export.Write(&buf, f, signers...); err != nil {
			return 0, fmt.Errorf("export: batch %d file %d of %d: %w", end.Unix(), i+1, size, err)
		}
		name := s.batchName(start, end, i+1, size)
		if err := s.blobs.Put(ctx, name, buf.Bytes()); err != nil {
			return 0, fmt.Errorf("export: batch %d file %d of %d: %w", end.Unix(), i+1, size, err)
		}
		if i == 0 {
			rec.Filename = name
		} else {
			rec.MoreFiles = append(rec.MoreFiles, name)
		}
		rec.Padding += padding
		rec.Size += int64(buf.Len())
	}
	rec.CreatedAt = s.now()
	recorded, err := s.db.RecordExport(ctx, rec)
	if err != nil {
		return 0, err
	}
	if !recorded {
		return 0, nil // another replica finished it after a lease hand-over
	}
	s.metrics.exports.Inc()
	s.stat(ctx, "exports", 1)
	s.stat(ctx, "export_bytes", rec.Size)
	s.log.InfoContext(ctx, "export written", "file", rec.Filename, "files", size, "keys", nKeys, "revoked", nRevoked, "padding", rec.Padding, "bytes", rec.Size)
	return nKeys, nil
}

// exportable reports whether k may go into a file; one that may not (the
// database holds something no EN client accepts) is left out and logged,
// rather than failing its whole period again at every run.
func (s *Server) exportable(ctx context.Context, k export.Key) bool {
	if err := k.Validate(); err != nil {
		s.log.ErrorContext(ctx, "export: key left out", "err", err)
		return false
	}
	return true
}

func sortKeys(keys []export.Key) {
	slices.SortFunc(keys, func(a, b export.Key) int { return bytes.Compare(a.Data[:], b.Data[:]) })
}

func toExportKey(k store.Key, rt export.ReportType) export.Key {
	var e export.Key
	copy(e.Data[:], k.Data)
	e.RollingStart, e.RollingPeriod = uint32(k.RollingStart), uint32(k.RollingPeriod)
	e.ReportType, e.DaysSinceOnset = rt, k.DaysSinceOnset
	return e
}

// fillerKeys are random keys that look like real ones: they hide how many
// people published in a batch. Random keys match no phone.
func fillerKeys(n int, end time.Time) []export.Key {
	out := make([]export.Key, n)
	lastDay := int64(protocol.RollingStart(protocol.IntervalNumber(end))) - protocol.KeyRollingPeriod
	for i := range out {
		rand.Read(out[i].Data[:])
		d, _ := rand.Int(rand.Reader, big.NewInt(13))
		out[i].RollingStart = uint32(lastDay - d.Int64()*protocol.KeyRollingPeriod)
		out[i].RollingPeriod = protocol.KeyRollingPeriod
		out[i].ReportType = export.ReportConfirmedTest
		dso, _ := rand.Int(rand.Reader, big.NewInt(15))
		out[i].DaysSinceOnset = int32(dso.Int64()) - 4
	}
	return out
}

func (s *Server) writeIndex(ctx context.Context, now time.Time, extra []string) error {
	exps, err := s.db.Exports(ctx, now.Add(-s.cfg.Retention))
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range exps {
		for _, name := range e.Files() {
			b.WriteString(name)
			b.WriteByte('\n')
		}
	}
	for _, name := range extra {
		b.WriteString(name)
		b.WriteByte('\n')
	}
	return s.blobs.Put(ctx, api.IndexName, []byte(b.String()))
}

// statsEvery is how often counted statistics reach the database.
const statsEvery = 10 * time.Second

// RunBackground runs the export worker every interval and flushes the
// statistics every 10 seconds until ctx ends, then flushes them once more.
func (s *Server) RunBackground(ctx context.Context, exportEvery time.Duration) {
	done := make(chan struct{})
	go func() { defer close(done); s.RunExportWorker(ctx, exportEvery) }()
	t := time.NewTicker(statsEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.FlushStats(ctx); err != nil {
				s.log.ErrorContext(ctx, "statistics", "err", err)
			}
		case <-ctx.Done():
			<-done
			if err := s.FlushStats(context.WithoutCancel(ctx)); err != nil {
				s.log.Error("statistics", "err", err)
			}
			return
		}
	}
}

// RunExportWorker runs ExportOnce every interval until ctx ends.
func (s *Server) RunExportWorker(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if res, err := s.ExportOnce(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.ErrorContext(ctx, "export worker", "err", err)
		} else if res.Batches > 0 {
			s.log.InfoContext(ctx, "export worker", "batches", res.Batches, "keys", res.Keys)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
