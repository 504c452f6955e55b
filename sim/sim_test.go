package sim_test

import (
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/sim"
)

func TestConfigValidate(t *testing.T) {
	if err := sim.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := sim.DefaultConfig()
	c.People, c.Uptake, c.Days = 1, 2, 0
	err := c.Validate()
	for _, want := range []string{"people 1", "uptake 2", "days 0"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
}
