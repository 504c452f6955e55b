// Package blob stores export files: a local directory by default (served by
// the server itself), or S3-compatible object storage behind a CDN.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bluezone-vn/bluezone/internal/atomicfile"
)

// ErrNotFound is returned for a missing object.
var ErrNotFound = errors.New("blob not found")

// Dir keeps objects as files below a directory. Writes are atomic: readers
// see the old or the new file, never part of one.
type Dir struct{ root string }

// NewDir creates (if needed) and uses root.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return &Dir{root: root}, nil
}

// checkName accepts relative, clean, non-hidden names: no way out of the
// store's root, on disk or in a bucket.
func checkName(name string) error {
	clean := filepath.Clean("/" + name)[1:]
	if clean == "" || clean != name || strings.HasPrefix(clean, ".") {
		return fmt.Errorf("blob: bad name %q", name)
	}
	return nil
}

func (d *Dir) path(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return filepath.Join(d.root, name), nil
}

// Put writes an object.
func (d *Dir) Put(_ context.Context, name string, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("blob: %w", err)
	}
	if err := atomicfile.WriteFile(p, data, 0o644); err != nil {
		return fmt.Errorf("blob: write %s: %w", name, err)
	}
	return nil
}

// Get reads an object.
func (d *Dir) Get(_ context.Context, name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, ErrNotFound
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if fi, serr := os.Stat(p); err != nil && serr == nil && fi.IsDir() {
		return nil, ErrNotFound // a folder (such as VN/ of the batches) is no object
	}
	if err != nil {
		return nil, fmt.Errorf("blob: %w", err)
	}
	return b, nil
}

// Delete removes an object; a missing one is not an error.
func (d *Dir) Delete(_ context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: %w", err)
	}
	return nil
}
