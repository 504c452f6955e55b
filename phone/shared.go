package phone

import (
	"crypto/sha256"
	"sync"

	"github.com/bluezone-vn/bluezone/protocol"
	"github.com/bluezone-vn/bluezone/protocol/export"
)

// Shared lets the engines of one process share work whose result is the
// same for every phone: reading and verifying an export file, and deriving
// a published key's identifiers. A simulator running thousands of phones
// sets it on their Client; an app has no use for it and leaves it nil.
// Matching gives the same results with or without it.
type Shared struct {
	mu       sync.Mutex
	archives map[archiveKey]*export.Archive
	ids      map[dayKey]*[protocol.KeyRollingPeriod]protocol.RPI
}

// dayKey is a published key: identifiers depend on the interval number.
type dayKey struct {
	tek   protocol.TEK
	start uint32
}

// archiveKey is a file's content hash and the pinned key it verified under.
type archiveKey struct {
	file [sha256.Size]byte
	pin  string
}

// NewShared returns an empty Shared.
func NewShared() *Shared {
	return &Shared{archives: map[archiveKey]*export.Archive{}, ids: map[dayKey]*[protocol.KeyRollingPeriod]protocol.RPI{}}
}

// Reset forgets everything, bounding memory: call it when the set of
// published files changes.
func (s *Shared) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.archives)
	clear(s.ids)
}

// lookup returns the archive of the file with this hash if it was verified
// before under pin.
func (s *Shared) lookup(file [sha256.Size]byte, pin []byte) *export.Archive {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.archives[archiveKey{file, string(pin)}]
}

func (s *Shared) remember(file [sha256.Size]byte, pin []byte, a *export.Archive) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.archives[archiveKey{file, string(pin)}] = a
}

// identifiers returns the RPIs of the key for the intervals from start on
// (index i is interval start+i).
func (s *Shared) identifiers(tek protocol.TEK, start uint32) *[protocol.KeyRollingPeriod]protocol.RPI {
	k := dayKey{tek, start}
	s.mu.Lock()
	ids, ok := s.ids[k]
	s.mu.Unlock()
	if ok {
		return ids
	}
	ids = new([protocol.KeyRollingPeriod]protocol.RPI)
	d := protocol.NewRPIOnly(tek)
	for i := range ids {
		ids[i] = d.RPI(start + uint32(i))
	}
	s.mu.Lock()
	s.ids[k] = ids
	s.mu.Unlock()
	return ids
}

// verifyFile reads data and checks it against the pinned keys, through s
// when set.
func verifyFile(s *Shared, data []byte, pins []pin) (*export.Archive, error) {
	var sum [sha256.Size]byte
	if s != nil {
		sum = sha256.Sum256(data)
		for _, p := range pins {
			if a := s.lookup(sum, p.pem); a != nil {
				return a, nil
			}
		}
	}
	a, err := export.Read(data)
	if err != nil {
		return nil, err
	}
	for _, p := range pins {
		if a.Verify(p.key) == nil {
			if s != nil {
				s.remember(sum, p.pem, a)
			}
			return a, nil
		}
	}
	return nil, ErrUnverified
}
