package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/bluezone-vn/bluezone/server"
)

// zoneFlag is a time zone given by its IANA name (the zone database is
// inside the binary: see server's time/tzdata import).
type zoneFlag struct{ loc *time.Location }

func (z *zoneFlag) String() string {
	if z == nil || z.loc == nil {
		return ""
	}
	return z.loc.String()
}

func (z *zoneFlag) Set(name string) error {
	loc, err := time.LoadLocation(name)
	if err != nil || name == "" || name == "Local" {
		return fmt.Errorf("want an IANA time zone such as Asia/Ho_Chi_Minh or UTC, not %q", name)
	}
	z.loc = loc
	return nil
}

// addZoneFlag defines --time-zone, the officials' zone.
func addZoneFlag(fs *flag.FlagSet) *zoneFlag {
	z := &zoneFlag{}
	if err := z.Set(server.DefaultTimeZone); err != nil {
		panic(err) // the zone database is in the binary
	}
	fs.Var(z, "time-zone", "the officials' time `zone` (an IANA name): the portal shows times in it, and today's date, the latest a code\n"+
		"may be issued for, and the days of the statistics are its calendar dates; keys' day numbers stay UTC [$BLUEZONE_TIME_ZONE]")
	return z
}
