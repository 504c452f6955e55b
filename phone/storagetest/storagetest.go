// Package storagetest checks that a phone.Storage keeps the contract the
// engine relies on. Implementations call Run from their tests.
package storagetest

import (
	"bytes"
	"slices"
	"testing"

	"github.com/bluezone-vn/bluezone/phone"
)

// Run checks a fresh storage made by open.
func Run(t *testing.T, open func(t *testing.T) phone.Storage) {
	t.Run("state", func(t *testing.T) {
		s := open(t)
		if b, err := s.ReadState(); err != nil || b != nil {
			t.Fatalf("fresh state = %q, %v; want nil, nil", b, err)
		}
		for _, v := range []string{"first", "second, longer", "x"} {
			if err := s.WriteState([]byte(v)); err != nil {
				t.Fatal(err)
			}
			if b, err := s.ReadState(); err != nil || string(b) != v {
				t.Fatalf("state = %q, %v; want %q", b, err, v)
			}
		}
	})
	t.Run("logs", func(t *testing.T) {
		s := open(t)
		if b, err := s.ReadLog(7); err != nil || b != nil {
			t.Fatalf("missing log = %q, %v; want nil, nil", b, err)
		}
		steps := []struct {
			day, off int64
			data     string
			want     string
		}{
			{7, 0, "aaa", "aaa"},
			{7, 3, "bb", "aaabb"},
			{7, 3, "cccc", "aaacccc"}, // a torn tail cut off
			{5, 0, "z", "z"},
			{9, 0, "", ""},
		}
		for _, st := range steps {
			if err := s.WriteLog(st.day, st.off, []byte(st.data)); err != nil {
				t.Fatalf("WriteLog(%d, %d): %v", st.day, st.off, err)
			}
			if b, err := s.ReadLog(st.day); err != nil || string(b) != st.want {
				t.Fatalf("after WriteLog(%d, %d, %q): log %q, %v; want %q", st.day, st.off, st.data, b, err, st.want)
			}
		}
		before, _ := s.ReadLog(7)
		before = bytes.Clone(before)
		got, _ := s.ReadLog(7)
		if err := s.WriteLog(7, 1, []byte("Q")); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, before) {
			t.Fatalf("a log read earlier changed under its reader: %q, was %q", got, before)
		}
		if days, err := s.LogDays(); err != nil || !slices.Equal(days, []int64{5, 7, 9}) {
			t.Fatalf("days = %v, %v; want [5 7 9]", days, err)
		}
		if n, err := s.LogBytes(); err != nil || n != 3 {
			t.Fatalf("bytes = %d, %v; want 3", n, err)
		}
		if err := s.DeleteLog(7); err != nil {
			t.Fatal(err)
		}
		if days, err := s.LogDays(); err != nil || !slices.Equal(days, []int64{5, 9}) {
			t.Fatalf("days after delete = %v, %v; want [5 9]", days, err)
		}
		if b, err := s.ReadLog(7); err != nil || b != nil {
			t.Fatalf("deleted log = %q, %v", b, err)
		}
	})
}
