package server

import (
	"fmt"
	"time"

	// The zone database inside the binary: a minimal container has no
	// /usr/share/zoneinfo, and the default zone must load anywhere.
	_ "time/tzdata"
)

// DefaultTimeZone is the zone of this deployment's officials.
const DefaultTimeZone = "Asia/Ho_Chi_Minh"

// The portal deals in two kinds of time, kept apart on purpose:
//
//   - Instants (a code issued or expiring, an audit row) are shown in the
//     server's zone (Config.TimeZone), with the zone's offset written out.
//   - Calendar dates a person tells an official (symptom onset, test,
//     exposure) have no zone: "2026-12-01" is stored as the day number of
//     that date (days since 1970-01-01), which is what Exposure
//     Notification compares with its keys' UTC day numbers (rolling start
//     numbers stay UTC). "Today", the latest date a form accepts, is the
//     local calendar date, and so are the days statistics count by.

// civilDay is the day number of t's calendar date in t's own location.
func civilDay(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// localDay is the day number of the local calendar date at instant t.
func (s *Server) localDay(t time.Time) int64 { return civilDay(t.In(s.cfg.TimeZone)) }

// dayDate writes a day number as its calendar date, "2026-12-01".
func dayDate(d int64) string { return time.Unix(d*86400, 0).UTC().Format(time.DateOnly) }

// formatInstant writes t in zone with its offset: "2026-12-01 09:30 UTC+7".
func formatInstant(t time.Time, zone *time.Location) string {
	t = t.In(zone)
	return t.Format("2006-01-02 15:04") + " " + utcOffset(t)
}

// utcOffset is t's offset from UTC for people: "UTC", "UTC+7", "UTC+5:30".
func utcOffset(t time.Time) string {
	_, off := t.Zone()
	if off == 0 {
		return "UTC"
	}
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	h, m := off/3600, off%3600/60
	if m != 0 {
		return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
	}
	return fmt.Sprintf("UTC%s%d", sign, h)
}

// zoneName names zone for people, with its offset at now:
// "Asia/Ho_Chi_Minh (UTC+7)".
func zoneName(zone *time.Location, now time.Time) string {
	if zone.String() == "UTC" {
		return "UTC"
	}
	return zone.String() + " (" + utcOffset(now.In(zone)) + ")"
}
