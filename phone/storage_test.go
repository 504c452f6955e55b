package phone_test

import (
	"testing"

	"github.com/bluezone-vn/bluezone/phone"
	"github.com/bluezone-vn/bluezone/phone/storagetest"
)

func TestDirStorage(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) phone.Storage {
		s, err := phone.NewDirStorage(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMemoryStorage(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) phone.Storage { return phone.NewMemoryStorage() })
}
