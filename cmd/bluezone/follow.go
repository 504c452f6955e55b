package main

import (
	"context"
	"flag"
	"log/slog"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/federation"
	"github.com/bluezone-vn/bluezone/server"
)

// followFlags are serve's flags for federation (docs/federation.md).
type followFlags struct {
	follows followList
	every   *time.Duration
}

// followList is a repeatable --follow; one value (such as that of
// $BLUEZONE_FOLLOW) may also hold several, separated by ';'.
type followList []string

func (l *followList) String() string { return strings.Join(*l, ";") }

func (l *followList) Set(v string) error {
	for _, s := range strings.Split(v, ";") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func addFollowFlags(fs *flag.FlagSet) *followFlags {
	ff := &followFlags{}
	fs.Var(&ff.follows, "follow",
		"follow another Exposure Notification server: REGION,INDEX_URL,PUBLIC_KEY.pem (its region, its index.txt, the PEM\n"+
			"file of the key its files must be signed with); repeatable, or several separated by ';'. Its region's files are\n"+
			"verified, imported and offered to our phones under REGION/ in our index.txt (docs/federation.md); --follow adds to\n"+
			"$BLUEZONE_FOLLOW [$BLUEZONE_FOLLOW]")
	ff.every = fs.Duration("follow-every", 10*time.Minute, "how often followed servers are asked for new files [$BLUEZONE_FOLLOW_EVERY]")
	return ff
}

// start wires federation into the server and runs its imports until ctx
// ends; it returns at once when nothing is followed. done is closed when
// the imports have stopped.
func (ff *followFlags) start(ctx context.Context, s *server.Server, db federation.Store, region string, log *slog.Logger) (done <-chan struct{}, err error) {
	ch := make(chan struct{})
	if len(ff.follows) == 0 {
		close(ch)
		return ch, nil
	}
	if *ff.every < 100*time.Millisecond {
		return nil, usageErrorf("serve: --follow-every %v: want at least 100ms", *ff.every)
	}
	cfg := federation.Config{Region: region, Instance: s.Instance()}
	for _, f := range ff.follows {
		p, err := federation.ParsePeer(f)
		if err != nil {
			return nil, usageErrorf("serve: --follow: %v", err)
		}
		cfg.Peers = append(cfg.Peers, p)
	}
	fed, err := federation.New(cfg, db, s.ExportBlobs(), s.SignExport, log)
	if err != nil {
		return nil, usageErrorf("serve: --follow: %v", err)
	}
	s.SetExportHook(fed.WriteExports)
	for _, p := range cfg.Peers {
		log.Info("following", "region", p.Region, "index", p.IndexURL)
	}
	go func() { defer close(ch); fed.Run(ctx, *ff.every) }()
	return ch, nil
}
