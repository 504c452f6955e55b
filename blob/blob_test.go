package blob_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bluezone-vn/bluezone/blob"
)

func TestDir(t *testing.T) {
	ctx := context.Background()
	d, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "VN/1-2.zip", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, err := d.Get(ctx, "VN/1-2.zip"); err != nil || string(b) != "x" {
		t.Fatalf("get: %q, %v", b, err)
	}
	for _, bad := range []string{"", "../x", "a/../../x", ".hidden", "/abs"} {
		if err := d.Put(ctx, bad, nil); err == nil {
			t.Errorf("Put(%q): want error", bad)
		}
	}
	if err := d.Delete(ctx, "VN/1-2.zip"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Get(ctx, "VN/1-2.zip"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := d.Delete(ctx, "VN/1-2.zip"); err != nil {
		t.Fatalf("deleting a missing blob: %v", err)
	}
}

// TestDirFolderIsNotFound: a folder is no object (GET /exports/VN is a 404).
func TestDirFolderIsNotFound(t *testing.T) {
	d, _ := blob.NewDir(t.TempDir())
	ctx := context.Background()
	d.Put(ctx, "VN/1-2.zip", []byte("x"))
	if _, err := d.Get(ctx, "VN"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get(folder): %v, want ErrNotFound", err)
	}
}
