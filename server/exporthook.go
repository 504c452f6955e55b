package server

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/api"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// ExportHook writes more files beside the server's own batches, inside the
// export worker's lease (so one replica at a time), and returns the names,
// relative to the exports' root, that index.txt must list besides them
// (also when it returns an error with them). The
// federation package's Federation.WriteExports is one: keys imported from
// followed servers, offered to our phones.
type ExportHook func(ctx context.Context, now time.Time) ([]string, error)

// SetExportHook makes every run of the export worker call h before it
// writes index.txt. When h fails, the run still writes index.txt, with our
// new batches and the names h gave before (the entries of the previous
// index.txt outside our region's folder), and then returns h's error: a
// hook in trouble must not keep our own keys from our phones.
func (s *Server) SetExportHook(h ExportHook) { s.exportHook = h }

// SignExport writes f as a zip signed as the server signs its own batches
// (every live signing key), for files that others (ExportHook) write into
// the exports.
func (s *Server) SignExport(ctx context.Context, w io.Writer, f *export.File) error {
	signers, err := s.exportSigners(ctx)
	if err != nil {
		return err
	}
	return export.Write(w, f, signers...)
}

// hookedExports runs the export hook, if any. When it fails, it returns
// the names the hook gave before, with the hook's error.
func (s *Server) hookedExports(ctx context.Context, now time.Time) ([]string, error) {
	if s.exportHook == nil {
		return nil, nil
	}
	names, err := s.exportHook(ctx, now)
	if err == nil || names != nil {
		return names, err // names given with an error are listed too
	}
	old, gerr := s.blobs.Get(ctx, api.IndexName)
	if gerr != nil {
		return nil, errors.Join(err, gerr)
	}
	names = nil
	for _, line := range strings.Split(string(old), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, s.cfg.Region+"/") {
			names = append(names, line)
		}
	}
	return names, err
}

// ExportBlobs is where the server writes its exports, for an ExportHook's
// files.
func (s *Server) ExportBlobs() Blobs { return s.blobs }

// Instance is the name this replica holds leases under (Config.InstanceID).
func (s *Server) Instance() string { return s.instance }
