package server

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

// ExportHook writes more files beside the server's own batches, inside the
// export worker's lease (so one replica at a time), and returns the names,
// relative to the exports' root, that index.txt must list besides them. The
// federation package's Federation.WriteExports is one: keys imported from
// followed servers, offered to our phones.
type ExportHook func(ctx context.Context, now time.Time) ([]string, error)

// SetExportHook makes every run of the export worker call h before it
// writes index.txt. An error of h fails the run, and index.txt is then left
// as it was.
func (s *Server) SetExportHook(h ExportHook) { s.exportHook = h }

// SignExport writes f as a zip signed as the server signs its own batches,
// for files that others (ExportHook) write into the exports.
func (s *Server) SignExport(w io.Writer, f *export.File) error {
	return export.Write(w, f, s.exportSigners()...)
}

// exportSigners are the signatures every export file carries.
func (s *Server) exportSigners() []export.Signer {
	return []export.Signer{{Key: s.exportKey, Info: export.SignatureInfo{KeyID: strings.ToLower(s.cfg.Region), KeyVersion: "v1", Algorithm: export.AlgorithmECDSAP256SHA256}}}
}

// hookedExports runs the export hook, if any.
func (s *Server) hookedExports(ctx context.Context, now time.Time) ([]string, error) {
	if s.exportHook == nil {
		return nil, nil
	}
	return s.exportHook(ctx, now)
}

// ExportBlobs is where the server writes its exports, for an ExportHook's
// files.
func (s *Server) ExportBlobs() Blobs { return s.blobs }

// Instance is the name this replica holds leases under (Config.InstanceID).
func (s *Server) Instance() string { return s.instance }
