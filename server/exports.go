package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
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
	if err := s.blobs.Put(ctx, api.PublicKeyName, s.exportPEM); err != nil {
		return nil, err
	}
	if err := s.ensureRiskConfigPublished(ctx); err != nil {
		return nil, err
	}
	// Batches end on period boundaries; only after an early batch of
	// DemoReleaseNow does the first one start off a boundary, and it ends at
	// the next one, so that the grid is kept.
	for end := start.Truncate(s.cfg.ExportPeriod).Add(s.cfg.ExportPeriod); !end.After(now); end = end.Add(s.cfg.ExportPeriod) {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		n, err := s.writeBatch(ctx, start, end)
		if err != nil {
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
	if err := s.pruneCallbacks(ctx, now); err != nil {
		return res, err
	}
	return res, s.writeIndex(ctx, now)
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

func (s *Server) batchName(start, end time.Time) string {
	return fmt.Sprintf("%s/%d-%d.zip", s.cfg.Region, start.Unix(), end.Unix())
}

func (s *Server) writeBatch(ctx context.Context, start, end time.Time) (int, error) {
	keys, revoked, err := s.db.BatchKeys(ctx, start, end)
	if err != nil {
		return 0, err
	}
	f := &export.File{Start: start, End: end, Region: s.cfg.Region, BatchNum: 1, BatchSize: 1}
	for _, k := range keys {
		f.Keys = append(f.Keys, toExportKey(k, export.ReportType(k.ReportType)))
	}
	for _, k := range revoked {
		f.Revised = append(f.Revised, toExportKey(k, export.ReportRevoked))
	}
	padding := max(0, s.cfg.MinBatchKeys-len(f.Keys)-len(f.Revised))
	f.Keys = append(f.Keys, fillerKeys(padding, end)...)
	var buf bytes.Buffer
	signer := export.Signer{Key: s.exportKey, Info: export.SignatureInfo{KeyID: strings.ToLower(s.cfg.Region), KeyVersion: "v1", Algorithm: export.AlgorithmECDSAP256SHA256}}
	if err := export.Write(&buf, f, signer); err != nil {
		return 0, fmt.Errorf("export: batch %d: %w", end.Unix(), err)
	}
	name := s.batchName(start, end)
	if err := s.blobs.Put(ctx, name, buf.Bytes()); err != nil {
		return 0, fmt.Errorf("export: batch %d: %w", end.Unix(), err)
	}
	recorded, err := s.db.RecordExport(ctx, store.Export{Start: start, End: end, Filename: name,
		Keys: len(keys), Revised: len(revoked), Padding: padding, Size: int64(buf.Len()), CreatedAt: s.now()})
	if err != nil {
		return 0, err
	}
	if !recorded {
		return 0, nil // another replica finished it after a lease hand-over
	}
	s.metrics.exports.Inc()
	s.stat(ctx, "exports", 1)
	s.stat(ctx, "export_bytes", int64(buf.Len()))
	s.log.InfoContext(ctx, "export written", "file", name, "keys", len(keys), "revoked", len(revoked), "padding", padding, "bytes", buf.Len())
	return len(keys), nil
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

func (s *Server) writeIndex(ctx context.Context, now time.Time) error {
	exps, err := s.db.Exports(ctx, now.Add(-s.cfg.Retention))
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range exps {
		b.WriteString(e.Filename)
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
