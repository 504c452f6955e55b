package server_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/bluezone-vn/bluezone/internal/dbtest"
	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/server"
	"github.com/bluezone-vn/bluezone/store"
)

// TestLookupCodeByRef: the operator's shell (bluezone codes status)
// finds a code by its UUID or its number, with or without '#', and gets
// its status; a code that does not exist is store.ErrNotFound, anything
// else ErrBadCodeRef (docs/codes.md).
func TestLookupCodeByRef(t *testing.T) {
	for _, be := range dbtest.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be.URL, server.Config{})
			ctx := context.Background()
			c, err := e.srv.IssueCode(ctx, server.IssueRequest{ReportType: export.ReportConfirmedTest, TestDate: e.clock.now(), IssuedBy: "o@moh.gov.vn"})
			if err != nil {
				t.Fatal(err)
			}
			id := strconv.FormatInt(c.ID, 10)
			for _, ref := range []string{c.UUID, strings.ToUpper(c.UUID), id, "#" + id, " " + id + " "} {
				st, err := e.srv.LookupCode(ctx, ref)
				if err != nil {
					t.Fatalf("lookup %q: %v", ref, err)
				}
				if st.ID != c.ID || st.UUID != c.UUID || st.ReportType != export.ReportConfirmedTest || st.State() != "open" ||
					st.Used || st.ExpiresAt == nil || !st.ExpiresAt.Equal(c.ExpiresAt) {
					t.Fatalf("lookup %q: %+v, want the open code #%d %s expiring at %v", ref, st, c.ID, c.UUID, c.ExpiresAt)
				}
			}
			if _, err := e.srv.Verify(ctx, c.Code); err != nil {
				t.Fatal(err)
			}
			if st, err := e.srv.LookupCode(ctx, c.UUID); err != nil || !st.Used || st.State() != "used" || st.ExpiresAt != nil {
				t.Fatalf("lookup of the used code: %+v, %v", st, err)
			}
			for _, tt := range []struct {
				ref  string
				want error
			}{
				{store.NewUUID(), store.ErrNotFound},
				{strconv.FormatInt(c.ID+1000, 10), store.ErrNotFound},
				{"not-a-code", server.ErrBadCodeRef},
			} {
				if st, err := e.srv.LookupCode(ctx, tt.ref); !errors.Is(err, tt.want) {
					t.Errorf("lookup %q: %+v, %v; want %v", tt.ref, st, err, tt.want)
				}
			}
		})
	}
}

// TestSMSConfigBounds: the link base is an http or https URL with a
// host, nothing else; the country code is 1 to 3 digits, all of 0-9
// (Bangladesh is 880, Uzbekistan 998).
func TestSMSConfigBounds(t *testing.T) {
	for _, tt := range []struct {
		c    server.SMSConfig
		want string // part of the error, "" for none
	}{
		{server.SMSConfig{LinkBase: "https://bluezone.gov.vn/v?c="}, ""},
		{server.SMSConfig{LinkBase: "http://10.0.0.7:8080/v?c="}, ""},
		{server.SMSConfig{LinkBase: "ftp://bluezone.gov.vn/v?c="}, "sms link base"},
		{server.SMSConfig{LinkBase: "https:///v?c="}, "sms link base"},
		{server.SMSConfig{CountryCode: "1"}, ""},
		{server.SMSConfig{CountryCode: "880"}, ""},
		{server.SMSConfig{CountryCode: "998"}, ""},
		{server.SMSConfig{CountryCode: "90"}, ""},
		{server.SMSConfig{CountryCode: "1234"}, "sms country code"},
		{server.SMSConfig{CountryCode: "8a"}, "sms country code"},
		{server.SMSConfig{CountryCode: "8/"}, "sms country code"},
		{server.SMSConfig{CountryCode: "8:"}, "sms country code"},
	} {
		err := validateOnly(server.Config{SMS: tt.c})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v: %v, want no error", tt.c, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v: %v, want an error about the %s", tt.c, err, tt.want)
		}
	}
}
