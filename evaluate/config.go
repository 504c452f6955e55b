package evaluate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/bluezone-vn/bluezone/risk"
)

// LoadConfig reads a risk.Config from a JSON file: risk.DefaultConfig()
// with the file's fields over it, validated. Unknown fields are an error,
// so that a misspelt field does not silently keep its default.
func LoadConfig(path string) (risk.Config, error) {
	c := risk.DefaultConfig()
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
