package sim

import (
	"fmt"
	"os"
	"sync"
)

// arena holds the sighting logs of all simulated phones in one append-only
// file: a hundred thousand phones' logs do not fit in memory, and a file per
// phone would cost file system calls on every write. Writes gather in a
// buffer written out a few megabytes at a time. Nothing in it needs to
// survive the process.
type arena struct {
	f       *os.File
	mu      sync.Mutex
	flushed int64  // bytes in the file
	buf     []byte // what follows them
}

const arenaBuffer = 4 << 20

func newArena(path string) (*arena, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return &arena{f: f, buf: make([]byte, 0, arenaBuffer)}, nil
}

// write appends b and returns its offset.
func (a *arena) write(b []byte) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.buf)+len(b) > cap(a.buf) && len(a.buf) > 0 {
		if _, err := a.f.WriteAt(a.buf, a.flushed); err != nil {
			return 0, fmt.Errorf("sim: arena: %w", err)
		}
		a.flushed += int64(len(a.buf))
		a.buf = a.buf[:0]
	}
	off := a.flushed + int64(len(a.buf))
	a.buf = append(a.buf, b...)
	return off, nil
}

// readAt fills b from offset off.
func (a *arena) readAt(b []byte, off int64) error {
	a.mu.Lock()
	if off >= a.flushed {
		copy(b, a.buf[off-a.flushed:])
		a.mu.Unlock()
		return nil
	}
	a.mu.Unlock()
	// Extents never straddle the buffer: each is written whole, before
	// or after a buffer write-out.
	if _, err := a.f.ReadAt(b, off); err != nil {
		return fmt.Errorf("sim: arena: %w", err)
	}
	return nil
}

func (a *arena) close() error {
	name := a.f.Name()
	err := a.f.Close()
	os.Remove(name)
	return err
}

// extent is a piece of a log in the arena: offset<<24 | length, packed
// because a million phones keep a dozen a day each (frames are shorter than
// 16 MiB, and the arena smaller than 1 TiB).
type extent uint64

func newExtent(off int64, n int) extent { return extent(uint64(off)<<24 | uint64(n)) }
func (e extent) off() int64             { return int64(e >> 24) }
func (e extent) len() int               { return int(e & (1<<24 - 1)) }

type dayLog struct {
	day     int64
	extents []extent
}

// phoneStorage is one simulated phone's phone.Storage: its state in memory,
// its log in the arena.
type phoneStorage struct {
	a     *arena
	mu    sync.Mutex
	state []byte
	logs  []dayLog // by day, oldest first; a handful
}

func (s *phoneStorage) ReadState() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, nil
}

func (s *phoneStorage) WriteState(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = data
	return nil
}

func (s *phoneStorage) find(day int64) int {
	for i := range s.logs {
		if s.logs[i].day == day {
			return i
		}
	}
	return -1
}

func (s *phoneStorage) ReadLog(day int64) ([]byte, error) {
	s.mu.Lock()
	i := s.find(day)
	if i < 0 {
		s.mu.Unlock()
		return nil, nil
	}
	ext := append([]extent(nil), s.logs[i].extents...)
	s.mu.Unlock()
	n := 0
	for _, e := range ext {
		n += e.len()
	}
	b := make([]byte, n)
	pos := 0
	for _, e := range ext {
		if err := s.a.readAt(b[pos:pos+e.len()], e.off()); err != nil {
			return nil, err
		}
		pos += e.len()
	}
	return b, nil
}

func (s *phoneStorage) WriteLog(day, off int64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(day)
	if i < 0 {
		s.logs = append(s.logs, dayLog{day: day})
		for i = len(s.logs) - 1; i > 0 && s.logs[i-1].day > day; i-- {
			s.logs[i], s.logs[i-1] = s.logs[i-1], s.logs[i]
		}
	}
	l := &s.logs[i]
	// Cut to off: whole extents kept, the one across off shortened.
	var pos int64
	keep := 0
	for _, e := range l.extents {
		if pos >= off {
			break
		}
		if pos+int64(e.len()) > off {
			e = newExtent(e.off(), int(off-pos))
		}
		l.extents[keep] = e
		pos += int64(e.len())
		keep++
	}
	if pos < off {
		return fmt.Errorf("sim: log of day %d: write at %d past its end %d", day, off, pos)
	}
	l.extents = l.extents[:keep]
	if len(data) == 0 {
		return nil
	}
	if len(data) >= 1<<24 {
		return fmt.Errorf("sim: log of day %d: a write of %d bytes is too large", day, len(data))
	}
	at, err := s.a.write(data)
	if err != nil {
		return err
	}
	l.extents = append(l.extents, newExtent(at, len(data)))
	return nil
}

func (s *phoneStorage) LogDays() ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	days := make([]int64, len(s.logs))
	for i, l := range s.logs {
		days[i] = l.day
	}
	return days, nil
}

func (s *phoneStorage) DeleteLog(day int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.find(day); i >= 0 {
		s.logs = append(s.logs[:i], s.logs[i+1:]...)
	}
	return nil
}

func (s *phoneStorage) LogBytes() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, l := range s.logs {
		for _, e := range l.extents {
			n += int64(e.len())
		}
	}
	return n, nil
}
