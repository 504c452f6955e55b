package phone

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/bluezone-vn/bluezone/internal/atomicfile"
)

// Storage is where an engine keeps its state and its sighting log, both
// already sealed. Apps use a directory (Open); a simulator running thousands
// of engines in one process supplies its own (OpenStorage). Implementations
// must be safe for concurrent use by one engine.
type Storage interface {
	// ReadState returns the state last written, or nil when there is none.
	ReadState() ([]byte, error)
	// WriteState replaces the state; after a crash ReadState returns the
	// old state or the new one, never a mix.
	WriteState(data []byte) error
	// ReadLog returns the content of the day's log, or nil when it has none.
	ReadLog(day int64) ([]byte, error)
	// WriteLog cuts the day's log to off bytes (dropping a torn tail left
	// by a crash) and writes data after it, durably before returning.
	WriteLog(day, off int64, data []byte) error
	// LogDays lists the days that have a log, oldest first.
	LogDays() ([]int64, error)
	// DeleteLog removes the day's log.
	DeleteLog(day int64) error
	// LogBytes returns the bytes the logs take.
	LogBytes() (int64, error)
}

// dirStorage keeps the state in one file and the log in one file per day
// under sightings/.
type dirStorage struct{ dir string }

// NewDirStorage returns the storage Open uses: dir/state.sealed and
// dir/sightings/DAY.log.
func NewDirStorage(dir string) (Storage, error) {
	if err := os.MkdirAll(filepath.Join(dir, "sightings"), 0o700); err != nil {
		return nil, fmt.Errorf("phone: %w", err)
	}
	return &dirStorage{dir: dir}, nil
}

const stateFile = "state.sealed"

func (d *dirStorage) ReadState() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(d.dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func (d *dirStorage) WriteState(data []byte) error {
	return atomicfile.WriteFile(filepath.Join(d.dir, stateFile), data, 0o600)
}

func (d *dirStorage) logPath(day int64) string {
	return filepath.Join(d.dir, "sightings", dayFileName(day))
}

func (d *dirStorage) ReadLog(day int64) ([]byte, error) {
	b, err := os.ReadFile(d.logPath(day))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func (d *dirStorage) WriteLog(day, off int64, data []byte) error {
	f, err := os.OpenFile(d.logPath(day), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(off); err != nil {
		return err
	}
	if _, err := f.WriteAt(data, off); err != nil {
		return err
	}
	return f.Sync()
}

func (d *dirStorage) LogDays() ([]int64, error) {
	ents, err := os.ReadDir(filepath.Join(d.dir, "sightings"))
	if err != nil {
		return nil, err
	}
	var days []int64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), logSuffix)
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(name, 10, 64); err == nil {
			days = append(days, n)
		}
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	return days, nil
}

func (d *dirStorage) DeleteLog(day int64) error { return os.Remove(d.logPath(day)) }

func (d *dirStorage) LogBytes() (int64, error) {
	days, err := d.LogDays()
	var total int64
	for _, day := range days {
		if fi, err := os.Stat(d.logPath(day)); err == nil {
			total += fi.Size()
		}
	}
	return total, err
}

// MemoryStorage keeps everything in memory: for tests, and for simulated
// phones whose data may be lost with the process.
type MemoryStorage struct {
	mu    sync.Mutex
	state []byte
	logs  map[int64][]byte
}

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage { return &MemoryStorage{logs: map[int64][]byte{}} }

func (m *MemoryStorage) ReadState() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state, nil
}

func (m *MemoryStorage) WriteState(data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state = data
	return nil
}

func (m *MemoryStorage) ReadLog(day int64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.logs[day], nil
}

func (m *MemoryStorage) WriteLog(day, off int64, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.logs[day]
	if off > int64(len(b)) {
		return fmt.Errorf("phone: memory log %d: write at %d past its end %d: %w", day, off, len(b), io.ErrUnexpectedEOF)
	}
	// A fresh slice: what ReadLog returned earlier must not change under its reader.
	m.logs[day] = append(b[:off:off], data...)
	return nil
}

func (m *MemoryStorage) LogDays() ([]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	days := make([]int64, 0, len(m.logs))
	for d := range m.logs {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	return days, nil
}

func (m *MemoryStorage) DeleteLog(day int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.logs, day)
	return nil
}

func (m *MemoryStorage) LogBytes() (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, b := range m.logs {
		n += int64(len(b))
	}
	return n, nil
}
