package evaluate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/bluezone-vn/bluezone/risk"
)

// LoadConfig reads a risk.Config from JSON files: risk.DefaultConfig()
// with each file's fields over it in turn (later files win; calibration
// entries add up), validated. Unknown fields are an error, so that a
// misspelt field does not silently keep its default.
func LoadConfig(paths ...string) (risk.Config, error) {
	known := configFields()
	merged := map[string]json.RawMessage{}
	calibration := map[string]json.RawMessage{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return risk.Config{}, err
		}
		var fields map[string]json.RawMessage
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&fields); err != nil {
			return risk.Config{}, fmt.Errorf("%s: %w", path, err)
		}
		for k, v := range fields {
			if !known[k] {
				return risk.Config{}, fmt.Errorf("%s: unknown field %q", path, k)
			}
			if k != "calibration" {
				merged[k] = v
				continue
			}
			var cal map[string]json.RawMessage
			if err := json.Unmarshal(v, &cal); err != nil {
				return risk.Config{}, fmt.Errorf("%s: calibration: %w", path, err)
			}
			for m, c := range cal {
				calibration[m] = c
			}
		}
	}
	if len(calibration) > 0 {
		b, err := json.Marshal(calibration)
		if err != nil {
			return risk.Config{}, err
		}
		merged["calibration"] = b
	}
	doc, err := json.Marshal(merged)
	if err != nil {
		return risk.Config{}, err
	}
	var c risk.Config // UnmarshalJSON starts from DefaultConfig
	if err := json.Unmarshal(doc, &c); err != nil {
		return risk.Config{}, fmt.Errorf("%s: %w", strings.Join(paths, ", "), err)
	}
	if err := c.Validate(); err != nil {
		return risk.Config{}, fmt.Errorf("%s: %w", strings.Join(paths, ", "), err)
	}
	return c, nil
}

// configFields returns the JSON names of risk.Config's fields.
func configFields() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeOf(risk.Config{})
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}
