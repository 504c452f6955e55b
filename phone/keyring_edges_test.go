package phone

import (
	"bytes"
	"errors"
	"testing"
)

// TestSigningKeyListingBounds: a listing of exactly maxKeyListBytes is read
// (one byte more is refused), and a key with exactly maxKeyEndorsements
// endorsements is considered (one more and it is skipped), here with its
// valid endorsement last.
func TestSigningKeyListingBounds(t *testing.T) {
	pinned, k2, other := newAuthority(t), newAuthority(t), newAuthority(t)
	padded := func(size int) []byte {
		b := listing(t, listed(t, k2, "452", "v2", pinned))
		if len(b) > size {
			t.Fatalf("listing of %d bytes, longer than %d", len(b), size)
		}
		return append(b, bytes.Repeat([]byte(" "), size-len(b))...) // JSON allows trailing space
	}
	endorsedBy := func(n int) []byte {
		k := listed(t, k2, "452", "v2", other)
		e := k.Endorsements[0]
		k.Endorsements = nil
		for range n - 1 {
			k.Endorsements = append(k.Endorsements, e) // by an unpinned key
		}
		k.Endorsements = append(k.Endorsements, listed(t, k2, "452", "v2", pinned).Endorsements[0])
		return listing(t, k)
	}
	for _, tt := range []struct {
		name    string
		listing []byte
		want    int
		err     bool
	}{
		{"exactly the largest listing", padded(maxKeyListBytes), 1, false},
		{"one byte too large", padded(maxKeyListBytes + 1), 0, true},
		{"exactly the most endorsements", endorsedBy(maxKeyEndorsements), 1, false},
		{"one endorsement too many", endorsedBy(maxKeyEndorsements + 1), 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPhone(t, -8)
			if err := p.PinPublicKey(pinned.pem); err != nil {
				t.Fatal(err)
			}
			n, err := p.AdoptEndorsedKeys(tt.listing)
			if (err != nil) != tt.err || (err != nil && !errors.Is(err, errKeyList)) {
				t.Fatalf("err %v, want error %v", err, tt.err)
			}
			if n != tt.want {
				t.Fatalf("adopted %d keys, want %d", n, tt.want)
			}
		})
	}
}
