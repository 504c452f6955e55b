package sim

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/phone/storagetest"
)

func TestPhoneStorage(t *testing.T) {
	a, err := newArena(filepath.Join(t.TempDir(), "arena"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.close() })
	storagetest.Run(t, func(t *testing.T) phone.Storage { return &phoneStorage{a: a} })
}

// TestArenaKeepsEveryLog writes more logs than the arena buffers, from
// several phones at once, and reads every one back.
func TestArenaKeepsEveryLog(t *testing.T) {
	a, err := newArena(filepath.Join(t.TempDir(), "arena"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	phones := make([]*phoneStorage, 8)
	for i := range phones {
		phones[i] = &phoneStorage{a: a}
	}
	want := map[[2]int]string{}
	var wg sync.WaitGroup
	for i, p := range phones {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for day := range 40 {
				frame := bytes.Repeat([]byte{byte(i), byte(day)}, 10_000+i*day)
				if err := p.WriteLog(int64(day), 0, frame); err != nil {
					t.Error(err)
				}
			}
		}()
		for day := range 40 {
			want[[2]int{i, day}] = string(bytes.Repeat([]byte{byte(i), byte(day)}, 10_000+i*day))
		}
	}
	wg.Wait()
	if a.flushed == 0 {
		t.Fatal("the test never wrote the buffer out")
	}
	for k, w := range want {
		got, err := phones[k[0]].ReadLog(int64(k[1]))
		if err != nil || string(got) != w {
			t.Fatalf("phone %d day %d: %d bytes, %v; want %d", k[0], k[1], len(got), err, len(w))
		}
	}
}
