package server

import (
	"errors"
	"slices"
	"testing"

	"github.com/bluezone-vn/bluezone/risk"
)

// TestLocalizeProblemsOfAnyError: like risk.Problems, nothing for no
// error, a plain error's own message, and one message per broken rule.
func TestLocalizeProblemsOfAnyError(t *testing.T) {
	two := risk.DefaultConfig()
	two.MinutesThreshold, two.MaxScanSeconds = 0.5, 0
	for _, tt := range []struct {
		name string
		err  error
		want []string
	}{
		{"valid", nil, nil},
		{"another error", errors.New("signature does not verify"), []string{"signature does not verify"}},
		{"two broken rules", two.Validate(), risk.Problems(two.Validate())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := localizeProblems(langEnglish, tt.err)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("localizeProblems(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
	if n := len(risk.Problems(two.Validate())); n != 2 {
		t.Fatalf("the test's configuration breaks %d rules, want 2", n)
	}
}
