package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

// periodAttempts is how many runs of the export worker may fail on one
// period before it is given up: until then later periods wait (the cause,
// such as unreachable storage, usually passes); afterwards the period's keys
// go out in the next period's files, which then start where it started, so
// that one bad period cannot hold back every later one forever and no key is
// lost.
const periodAttempts = 3

const failuresSetting = "export_period_failures"

// periodFailures counts the failed attempts of export periods not yet
// written, by the Unix time of their end.
type periodFailures map[string]int

func (f periodFailures) givenUp(end time.Time) bool {
	return f[strconv.FormatInt(end.Unix(), 10)] >= periodAttempts
}

func (s *Server) periodFailures(ctx context.Context) (periodFailures, error) {
	f := periodFailures{}
	v, err := s.db.Setting(ctx, failuresSetting)
	if errors.Is(err, store.ErrNotFound) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(v), &f); err != nil {
		return nil, fmt.Errorf("export: %s: %w", failuresSetting, err)
	}
	return f, nil
}

func (s *Server) savePeriodFailures(ctx context.Context, f periodFailures) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return s.db.SetSetting(ctx, failuresSetting, string(b))
}

// failPeriod counts a failed attempt at the period ending at end and
// reports whether the period is given up now, so the worker may go on.
func (s *Server) failPeriod(ctx context.Context, f periodFailures, end time.Time, cause error) bool {
	k := strconv.FormatInt(end.Unix(), 10)
	f[k]++
	if err := s.savePeriodFailures(ctx, f); err != nil {
		s.log.ErrorContext(ctx, "export: count failed period", "err", err)
		return false // uncounted: try it again rather than skip it
	}
	if f[k] < periodAttempts {
		return false
	}
	s.metrics.exportPeriodsGivenUp.Inc()
	s.log.ErrorContext(ctx, "export period given up: its keys go out with the next period", "end", end, "attempts", f[k], "err", cause)
	return true
}

// forgetFailures drops the counts of periods up to end, now written (given
// up ones with the period that took their keys).
func (s *Server) forgetFailures(ctx context.Context, f periodFailures, end time.Time) error {
	n := len(f)
	for k := range f {
		if sec, err := strconv.ParseInt(k, 10, 64); err != nil || sec <= end.Unix() {
			delete(f, k)
		}
	}
	if len(f) == n {
		return nil
	}
	return s.savePeriodFailures(ctx, f)
}
