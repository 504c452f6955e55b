package evaluate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/bluezone-vn/bluezone/risk"
)

// LoadConfig reads a risk.Config from JSON files: risk.DefaultConfig()
// with each file's fields over it in turn (calibration entries add up),
// validated. Unknown fields are an error, so that a misspelt field does not
// silently keep its default.
func LoadConfig(paths ...string) (risk.Config, error) {
	c := risk.DefaultConfig()
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, err
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: %w", strings.Join(paths, ", "), err)
	}
	return c, nil
}
