package federation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// exportsPerRun bounds the imported files written in one run of the export
// worker, so that catching up does not hold its lease for long.
const exportsPerRun = 100

// forgetAfter is how long, past retention, imported files are remembered so
// that a server keeping its files longer than we do does not get them
// imported again.
const forgetAfter = 60 * 24 * time.Hour

// WriteExports is the export worker's hook (server.ExportHook): it applies
// retention to imported keys and our files offering them, writes a file
// for each imported file not written yet, and returns the names of all of
// them for our index.txt. Each is named as the origin named it, so under
// the origin's region folder, and keeps the origin's header (region,
// window, batch) and every key's fields as they came; only the signature
// is ours, the key our phones pin. A crash between writing a file and
// recording it rewrites the same name at the next run.
func (f *Federation) WriteExports(ctx context.Context, now time.Time) ([]string, error) {
	gone, err := f.db.DeleteFederationBefore(ctx, now.Add(-f.cfg.Retention), now.Add(-f.cfg.Retention-forgetAfter))
	if err != nil {
		return nil, err
	}
	for _, name := range gone {
		if err := f.blobs.Delete(ctx, name); err != nil {
			return nil, fmt.Errorf("federation: %w", err)
		}
	}
	pending, err := f.db.PendingFederationExports(ctx, exportsPerRun)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, file := range pending {
		// One file that cannot be written does not hold back the others.
		if err := f.writeFile(ctx, file); err != nil {
			errs = append(errs, err)
		}
	}
	written, err := f.db.FederationExports(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(written))
	for i, w := range written {
		names[i] = w.ExportedAs
	}
	return names, errors.Join(errs...)
}

func (f *Federation) writeFile(ctx context.Context, file store.FederationFile) error {
	if !strings.HasPrefix(file.Name, file.Peer+"/") || file.Region != file.Peer || strings.EqualFold(file.Peer, f.cfg.Region) {
		// Import admits nothing else; a file here under our own folder
		// would overwrite our batches and send keys back to their origin.
		return fmt.Errorf("federation: %s from %s (region %s): not in the folder of its region", file.Name, file.Peer, file.Region)
	}
	keys, err := f.db.FederationFileKeys(ctx, file.ID)
	if err != nil {
		return err
	}
	out := &export.File{Start: file.Start, End: file.End, Region: file.Region, BatchNum: file.BatchNum, BatchSize: file.BatchSize}
	for _, k := range keys {
		if k.Revised {
			out.Revised = append(out.Revised, fromStore(k))
		} else {
			out.Keys = append(out.Keys, fromStore(k))
		}
	}
	var buf bytes.Buffer
	if err := f.sign(ctx, &buf, out); err != nil {
		return fmt.Errorf("federation: %s from %s: %w", file.Name, file.Peer, err)
	}
	if err := f.blobs.Put(ctx, file.Name, buf.Bytes()); err != nil {
		return fmt.Errorf("federation: %s from %s: %w", file.Name, file.Peer, err)
	}
	if err := f.db.MarkFederationExported(ctx, file.ID, file.Name); err != nil {
		return err
	}
	f.log.InfoContext(ctx, "federation: imported keys offered", "follow", file.Peer, "file", file.Name, "keys", len(out.Keys), "revised", len(out.Revised), "bytes", buf.Len())
	return nil
}

// fromStore is toStore's inverse: a nil field is missing, with the
// default the protobuf reads for it.
func fromStore(k store.FederationKey) export.Key {
	e := export.Key{RollingStart: uint32(k.RollingStart), RollingPeriod: export.MaxRollingPeriod}
	copy(e.Data[:], k.Data)
	for _, o := range []struct {
		v   *int32
		f   export.Fields
		set func(int32)
	}{
		{k.RollingPeriod, export.FieldRollingPeriod, func(v int32) { e.RollingPeriod = uint32(v) }},
		{k.ReportType, export.FieldReportType, func(v int32) { e.ReportType = export.ReportType(v) }},
		{k.TransmissionRisk, export.FieldTransmissionRisk, func(v int32) { e.TransmissionRisk = v }},
		{k.DaysSinceOnset, export.FieldDaysSinceOnset, func(v int32) { e.DaysSinceOnset = v }},
	} {
		if o.v == nil {
			e.Missing |= o.f
		} else {
			o.set(*o.v)
		}
	}
	return e
}
