package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
	"github.com/bluezone-vn/bluezone/store"
)

// CodeLookup finds a code by the UUID officials know it by (store.DB
// implements it).
type CodeLookup interface {
	GetCodeByUUID(ctx context.Context, uuid string) (store.Code, error)
}

// ErrCodeExists is returned by IssueCode for a UUID another code has.
var ErrCodeExists = errors.New("a code with this UUID was issued already")

// CodeStatus is what officials may learn about a code: whether it is used
// or revoked, never when or by whom it was used (a used code's row keeps
// its times only to the day and no issuer; see store.DB.ClaimCode).
type CodeStatus struct {
	ID         int64
	UUID       string
	ReportType export.ReportType
	TestDay    int64 // Unix day of the onset, test or exposure date
	Long       bool
	// IssuedAt is to the second while the code is unused and only its
	// day once it is used (IssuedDay then).
	IssuedAt  time.Time
	IssuedDay bool
	// ExpiresAt is when an unused code stops working; nil once used.
	ExpiresAt *time.Time
	Used      bool
	Revoked   bool
	Expired   bool
}

// ReportTypeNumber is the report type as the portal's reportType label
// function takes it.
func (c CodeStatus) ReportTypeNumber() int32 { return int32(c.ReportType) }

// State is one word for the code: revoked, used, expired or open.
func (c CodeStatus) State() string {
	switch {
	case c.Revoked:
		return "revoked"
	case c.Used:
		return "used"
	case c.Expired:
		return "expired"
	}
	return "open"
}

// ErrBadCodeRef is wrapped by LookupCode's errors for a reference that is
// neither a UUID nor a number.
var ErrBadCodeRef = errors.New("not a code UUID or number")

// LookupCode finds a code by its UUID or, for the operator's shell, its
// number. A code that does not exist (or was deleted by retention) gives
// store.ErrNotFound.
func (s *Server) LookupCode(ctx context.Context, ref string) (CodeStatus, error) {
	var c store.Code
	var err error
	if id, perr := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(ref), "#"), 10, 64); perr == nil {
		c, err = s.db.GetCode(ctx, id)
	} else if uuid, uerr := store.ParseUUID(ref); uerr == nil {
		c, err = s.db.GetCodeByUUID(ctx, uuid)
	} else {
		return CodeStatus{}, fmt.Errorf("%w: %v", ErrBadCodeRef, uerr)
	}
	if err != nil {
		return CodeStatus{}, err
	}
	return s.codeStatus(c), nil
}

func (s *Server) codeStatus(c store.Code) CodeStatus {
	st := CodeStatus{ID: c.ID, UUID: c.UUID, ReportType: export.ReportType(c.ReportType), TestDay: c.TestDay, Long: c.Long,
		IssuedAt: c.IssuedAt, Used: c.ClaimedAt != nil, Revoked: c.RevokedAt != nil}
	if st.Used {
		st.IssuedDay = true
	} else {
		exp := c.ExpiresAt
		st.ExpiresAt = &exp
		st.Expired = !s.now().Before(exp)
	}
	return st
}

// codeRoutes registers the pages of codes at scale: lookup by UUID,
// revocation's confirmation, bulk issuance, and the statistics' download.
func (s *Server) codeRoutes(mux *http.ServeMux) {
	mux.Handle("GET /portal/codes/lookup", s.authed(RoleOfficial, s.lookupPage))
	mux.Handle("GET /portal/codes/bulk", s.authed(RoleOfficial, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		s.bulkPage(w, r, pr, http.StatusOK, "", nil)
	}))
	mux.Handle("POST /portal/codes/bulk", s.multipartForm(s.authed(RoleOfficial, s.bulkIssueForm)))
	mux.Handle("GET /portal/stats.csv", s.authed(RoleViewer, s.statsCSV))
}

type lookupData struct {
	Query  string
	Status *CodeStatus
	Now    time.Time
}

func (s *Server) lookupPage(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	q := strings.TrimSpace(r.URL.Query().Get("uuid"))
	d := lookupData{Query: q, Now: s.now()}
	if q == "" {
		s.render(w, r, http.StatusOK, "code_status.html", s.page(pr, "Look up a code", d))
		return
	}
	status, errMsg := http.StatusOK, ""
	uuid, err := store.ParseUUID(q)
	if err == nil {
		var c store.Code
		c, err = s.db.GetCodeByUUID(r.Context(), uuid)
		switch {
		case errors.Is(err, store.ErrNotFound):
			status, errMsg = http.StatusNotFound, fmt.Sprintf(translate(pr.lang, "No code has the UUID %s (codes are deleted 14 days after they expire or their keys do)."), uuid)
		case err != nil:
			s.fail(w, r, err)
			return
		default:
			st := s.codeStatus(c)
			d.Status = &st
		}
	} else {
		status, errMsg = http.StatusBadRequest, translate(pr.lang, "Enter the code's UUID as 8-4-4-4-12 hexadecimal digits, as the issuing page or the bulk result file shows it.")
	}
	p := s.page(pr, "Look up a code", d)
	p.Error = errMsg
	s.render(w, r, status, "code_status.html", p)
}

// revokeConfirmPage asks before a code is revoked: revoking withdraws the
// warnings its keys gave, and cannot be undone.
func (s *Server) revokeConfirmPage(w http.ResponseWriter, r *http.Request, pr *portalRequest, id int64) {
	c, err := s.db.GetCode(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.codesPage(w, r, pr, http.StatusNotFound, fmt.Sprintf(translate(pr.lang, "Code #%d does not exist or is revoked already."), id), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st := s.codeStatus(c)
	p := s.page(pr, "Revoke a code?", lookupData{Status: &st, Now: s.now()})
	if st.Revoked {
		p.Error = fmt.Sprintf(translate(pr.lang, "Code #%d is revoked already."), id)
	}
	s.render(w, r, http.StatusOK, "code_revoke.html", p)
}
