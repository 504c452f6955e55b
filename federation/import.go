package federation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

const (
	importLease = "federation-import"
	leaseFor    = 10 * time.Minute
	// maxReason bounds why a file was refused, as stored and logged: the
	// reason may quote the file.
	maxReason = 1 << 10
)

// ImportResult says what one import run did.
type ImportResult struct {
	Files   int // imported
	Keys    int // imported, revised ones included
	Refused int // files that failed verification this run
	// RecursiveDropped counts RECURSIVE keys left out (docs/federation.md).
	RecursiveDropped int
	// UntimelyDropped counts keys left out because they are older than
	// the retention or start in the future.
	UntimelyDropped int
	Skipped         bool // another replica holds the lease
}

// ErrRefused wraps why a file of a followed server was refused.
var ErrRefused = errors.New("refused")

// entryName is the shape of a Bluezone export name: one file in the
// region's folder. Anything else (other folders, "..", queries) is not
// fetched.
var entryName = regexp.MustCompile(`^[A-Z]{2}/[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.zip$`)

// ImportOnce fetches from every followed server the files of its region
// not imported yet, verifies and imports them. A file that does not verify
// is refused, recorded, and does not stop the others; it is tried again at
// later runs, at most MaxAttempts times in all. A server that cannot be
// reached is tried again at the next run. Only the replica holding the
// import lease works.
func (f *Federation) ImportOnce(ctx context.Context) (ImportResult, error) {
	var res ImportResult
	now := f.now()
	held, err := f.db.AcquireLease(ctx, importLease, f.cfg.Instance, now, now.Add(leaseFor))
	if err != nil || !held {
		res.Skipped = !held
		return res, err
	}
	defer f.db.ReleaseLease(context.WithoutCancel(ctx), importLease, f.cfg.Instance)
	var errs []error
	for _, p := range f.cfg.Peers {
		if err := f.importPeer(ctx, p, &res); err != nil {
			errs = append(errs, fmt.Errorf("federation: follow %s: %w", p.Region, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return res, errors.Join(errs...)
}

func (f *Federation) importPeer(ctx context.Context, p Peer, res *ImportResult) error {
	base, err := url.Parse(p.IndexURL)
	if err != nil {
		return err
	}
	index, err := f.get(ctx, p.IndexURL, f.cfg.MaxIndexBytes)
	if err != nil {
		return err
	}
	known, err := f.db.FederationFiles(ctx, p.Region)
	if err != nil {
		return err
	}
	skip := map[string]bool{}
	for _, k := range known {
		skip[k.Name] = k.State != store.FederationRefused || k.Attempts >= f.cfg.MaxAttempts
	}
	fetched := 0
	// A server whose files stall until the time-out would otherwise hold
	// the run for MaxFilesPerRun time-outs (hours), and the servers after
	// it wait: each gets at most leaseFor of a run.
	started := f.now()
	for _, name := range indexEntries(index, p.Region) {
		if skip[name] {
			continue
		}
		if fetched == f.cfg.MaxFilesPerRun || f.now().Sub(started) >= leaseFor {
			break // the rest at the next run
		}
		fetched++
		skip[name] = true         // listed twice: once
		ref, _ := url.Parse(name) // entryName admits only a relative path
		data, err := f.get(ctx, base.ResolveReference(ref).String(), f.cfg.MaxFileBytes)
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: not the file's fault
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			return err // unreachable: everything again next run
		}
		var file store.FederationFile
		var keys []store.FederationKey
		var dropped, untimely int
		if err == nil {
			file, keys, dropped, untimely, err = f.check(p, name, data)
		}
		if err != nil {
			res.Refused++
			reason := err.Error()
			if len(reason) > maxReason { // a region of megabytes, say
				reason = reason[:maxReason]
			}
			// PostgreSQL's TEXT takes valid UTF-8 without NUL only, and the
			// reason may quote the file's bytes (a zip entry's name, say).
			reason = strings.ReplaceAll(strings.ToValidUTF8(reason, ""), "\x00", "")
			attempts, rerr := f.db.RefuseFederationFile(ctx, p.Region, name, reason, f.now())
			if rerr != nil {
				return rerr
			}
			f.log.WarnContext(ctx, "federation: file refused", "follow", p.Region, "file", name, "attempt", attempts, "err", reason)
			// Refused files take time too (a time-out each): keep the lease.
			if _, err := f.db.AcquireLease(ctx, importLease, f.cfg.Instance, f.now(), f.now().Add(leaseFor)); err != nil {
				return err
			}
			continue
		}
		ok, err := f.db.ImportFederationFile(ctx, file, keys)
		if err != nil {
			return err
		}
		if ok {
			res.Files++
			res.Keys += len(keys)
			res.RecursiveDropped += dropped
			res.UntimelyDropped += untimely
		}
		// Keep the lease while catching up on many files.
		if _, err := f.db.AcquireLease(ctx, importLease, f.cfg.Instance, f.now(), f.now().Add(leaseFor)); err != nil {
			return err
		}
	}
	return nil
}

// indexEntries returns the entries of an index.txt that name files of
// region, in their order: only the peer's own region, since the files it
// offers of others' keys are theirs to give (no loops, no onward export).
func indexEntries(index []byte, region string) []string {
	var out []string
	for _, line := range strings.Split(string(index), "\n") {
		name := strings.TrimSpace(line)
		if strings.HasPrefix(name, region+"/") && entryName.MatchString(name) {
			out = append(out, name)
		}
	}
	return out
}

// check verifies one file of p and returns what to store: the file must
// be a well-formed export signed by p's pinned key, of p's region. It
// returns the keys to import, how many RECURSIVE ones it left out, and how
// many it left out for their time: older than the retention, or starting in
// the future (which a publish here refuses as key_in_future); signed with
// our key they would reach our phones as our own keys never do.
func (f *Federation) check(p Peer, name string, data []byte) (store.FederationFile, []store.FederationKey, int, int, error) {
	a, err := export.Read(data)
	if err != nil {
		return store.FederationFile{}, nil, 0, 0, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if err := a.Verify(p.Key); err != nil {
		return store.FederationFile{}, nil, 0, 0, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	h := a.File
	if h.Region != p.Region {
		return store.FederationFile{}, nil, 0, 0, fmt.Errorf("%w: region %q, want %q", ErrRefused, h.Region, p.Region)
	}
	if h.BatchNum < 1 || h.BatchSize < h.BatchNum || h.End.Before(h.Start) {
		return store.FederationFile{}, nil, 0, 0, fmt.Errorf("%w: batch %d of %d, window %v..%v", ErrRefused, h.BatchNum, h.BatchSize, h.Start, h.End)
	}
	now := f.now()
	oldest, current := int64(now.Add(-f.cfg.Retention).Unix()/600), int64(now.Unix()/600)
	file := store.FederationFile{Peer: p.Region, Name: name, Region: h.Region, Start: h.Start, End: h.End,
		BatchNum: h.BatchNum, BatchSize: h.BatchSize, At: f.now()}
	var keys []store.FederationKey
	dropped, untimely := 0, 0
	for _, list := range []struct {
		keys    []export.Key
		revised bool
	}{{h.Keys, false}, {h.Revised, true}} {
		for _, k := range list.keys {
			if k.ReportType == export.ReportRecursive {
				dropped++ // F2 warnings do not cross borders (docs/federation.md)
				continue
			}
			if start := int64(k.RollingStart); start+int64(k.RollingPeriod) <= oldest || start > current {
				untimely++
				continue
			}
			keys = append(keys, toStore(k, list.revised))
		}
	}
	return file, keys, dropped, untimely, nil
}

func toStore(k export.Key, revised bool) store.FederationKey {
	opt := func(f export.Fields, v int32) *int32 {
		if k.Missing&f != 0 {
			return nil
		}
		return &v
	}
	return store.FederationKey{
		Data:             k.Data[:],
		RollingStart:     int64(k.RollingStart),
		RollingPeriod:    opt(export.FieldRollingPeriod, int32(k.RollingPeriod)),
		ReportType:       opt(export.FieldReportType, int32(k.ReportType)),
		TransmissionRisk: opt(export.FieldTransmissionRisk, k.TransmissionRisk),
		DaysSinceOnset:   opt(export.FieldDaysSinceOnset, k.DaysSinceOnset),
		Revised:          revised,
	}
}

// get fetches u, at most limit bytes, within the client's time-out.
func (f *Federation) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.cfg.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err) // the server is down or unreachable
	}
	defer resp.Body.Close()
	// The server answered: what goes wrong now is this file's fault
	// (ErrRefused), so that a file too large or too slow cannot hold back
	// the files after it.
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrRefused, u, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: GET %s: %d bytes, at most %d", ErrRefused, u, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w", ErrRefused, u, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: GET %s: more than %d bytes", ErrRefused, u, limit)
	}
	return b, nil
}
