package store_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/store"
)

// TestParseUUIDErrorQuotesInput: the error for a value of the wrong length
// quotes it (it goes into a bulk upload's result file), at most its first 40
// bytes; an ellipsis marks a value that was cut, so a value of exactly 40
// bytes is quoted whole and without one.
func TestParseUUIDErrorQuotesInput(t *testing.T) {
	long := strings.Repeat("a", 41)
	for _, tt := range []struct {
		in, quoted string
	}{
		{strings.Repeat("a", 39), strings.Repeat("a", 39)},
		{strings.Repeat("a", 40), strings.Repeat("a", 40)},
		{long, long[:40] + "…"},
		{strings.Repeat("a", 400), long[:40] + "…"},
	} {
		_, err := store.ParseUUID(tt.in)
		if err == nil {
			t.Fatalf("ParseUUID of %d bytes: no error", len(tt.in))
		}
		want := strconv.Quote(tt.quoted) + " is not a UUID"
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseUUID of %d bytes: %q, want it to start with %q", len(tt.in), err, want)
		}
	}
}
