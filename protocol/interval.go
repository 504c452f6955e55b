package protocol

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

const (
	// IntervalLength is the length of one ENIntervalNumber.
	IntervalLength = 10 * time.Minute
	// KeyRollingPeriod is how many intervals one Temporary Exposure Key covers (one day).
	KeyRollingPeriod = 144
)

// IntervalNumber returns the ENIntervalNumber of t: the number of
// 10-minute intervals since the Unix epoch.
func IntervalNumber(t time.Time) uint32 {
	return uint32(t.Unix() / int64(IntervalLength/time.Second))
}

// IntervalTime returns the start of interval n.
func IntervalTime(n uint32) time.Time {
	return time.Unix(int64(n)*int64(IntervalLength/time.Second), 0).UTC()
}

// RollingStart returns the first interval of the UTC day that contains interval n:
// the rolling start interval number of the key valid during n.
func RollingStart(n uint32) uint32 {
	return n - n%KeyRollingPeriod
}

// ParseInterval reads an interval number given in decimal.
func ParseInterval(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("interval number %q: want a decimal number from 0 to %d", s, uint32(math.MaxUint32))
	}
	return uint32(n), nil
}
