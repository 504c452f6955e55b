package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/bluezone-vn/bluezone/phone"
)

func phoneCallbackCommand() *command {
	return &command{
		name: "callback",
		args: "--dir DIR --server URL --phone-number NUMBER",
		summary: describe(
			"Asks the health authority to call the user back about the phone's warning.",
			"Only on the user's explicit consent: the number, the warning's date and level (F1 or F2)",
			"and the phone's language go to the server, which keeps them encrypted until an official",
			"handles the request, 14 days at most. An official who confirms an F1 gives a code by",
			"phone; 'phone upload' then publishes with it, and the F1's contacts are warned F2.",
			"Prints 'callback: F1 on DATE, language LANG' and when the server deletes the request;",
			"exits with status 1 when the phone has no warning."),
		flags: func(fs *flag.FlagSet) func(context.Context, *stdio, []string) error {
			server := fs.String("server", "", "the server's base URL (required)")
			number := fs.String("phone-number", "", "the number to call back, e.g. +84912345678 or 0912 345 678 (required)")
			return withPhoneCtx(fs, 0, "no arguments", func(ctx context.Context, st *stdio, e *phone.Engine, now int64, _ []string) error {
				if *server == "" || *number == "" {
					return usageErrorf("phone callback: --server and --phone-number are required")
				}
				res, err := e.RequestCallback(ctx, &phone.Client{BaseURL: *server}, *number, now)
				if errors.Is(err, phone.ErrNoWarning) {
					return errors.New("phone callback: the phone has no warning to ask about ('phone status' shows it)")
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(st.out, "callback: F%d on %s, language %s\n", res.Level, res.ExposureDate, res.Language)
				if res.DeleteAfter != 0 {
					fmt.Fprintf(st.out, "the server deletes the request after %s unless an official handles it first\n", time.Unix(res.DeleteAfter, 0).UTC().Format(time.RFC3339))
				}
				return nil
			})
		},
	}
}
