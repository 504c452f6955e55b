package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bluezone-vn/bluezone/protocol/export"
)

// callbackQueueShown bounds the queue page: officials work it from the
// oldest, and what is handled leaves it.
const callbackQueueShown = 200

type callbacksData struct {
	Queue      []CallbackView
	Configured bool
	Today      string
	// Issued is the code just issued from a request, with the number to
	// give it to (the request itself is deleted).
	Issued      *IssuedCode
	IssuedTo    string
	IssuedLevel string
}

func (s *Server) callbackPortalRoutes(mux *http.ServeMux) {
	mux.Handle("GET /portal/callbacks", s.authed(RoleOfficial, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		s.callbacksPage(w, r, pr, http.StatusOK, "", "", nil)
	}))
	mux.Handle("POST /portal/callbacks/{id}/handled", s.authed(RoleOfficial, s.handleCallbackForm))
	mux.Handle("POST /portal/callbacks/{id}/code", s.authed(RoleOfficial, s.callbackCodeForm))
}

func (s *Server) callbacksPage(w http.ResponseWriter, r *http.Request, pr *portalRequest, status int, errMsg, notice string, d *callbacksData) {
	if d == nil {
		d = &callbacksData{}
	}
	q, err := s.CallbackQueue(r.Context(), callbackQueueShown)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Queue, d.Configured, d.Today = q, s.callbacks.sealer != nil, s.now().UTC().Format(time.DateOnly)
	p := s.page(pr, "Callback requests", d)
	p.Error, p.Notice = errMsg, notice
	s.render(w, r, status, "callbacks.html", p)
}

func callbackID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil
}

func (s *Server) handleCallbackForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	id, ok := callbackID(r)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
		return
	}
	err := s.HandleCallback(r.Context(), id, pr.me.Email)
	switch {
	case errors.Is(err, ErrNoCallback):
		s.callbacksPage(w, r, pr, http.StatusNotFound, fmt.Sprintf(translate(pr.lang, "Callback request #%d was handled already or has expired."), id), "", nil)
	case err != nil:
		s.fail(w, r, err)
	default:
		s.callbacksPage(w, r, pr, http.StatusOK, "", fmt.Sprintf(translate(pr.lang, "Callback request #%d handled and deleted."), id), nil)
	}
}

func (s *Server) callbackCodeForm(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
	id, ok := callbackID(r)
	if !ok {
		s.errorPage(w, r, http.StatusNotFound, "There is no such page.")
		return
	}
	rt, err := export.ParseReportType(r.PostFormValue("report_type"))
	if err != nil {
		s.callbacksPage(w, r, pr, http.StatusBadRequest, err.Error(), "", nil)
		return
	}
	req := IssueRequest{ReportType: rt, IssuedBy: pr.me.Email}
	if d := r.PostFormValue("date"); d != "" {
		if req.TestDate, err = time.Parse(time.DateOnly, d); err != nil {
			s.callbacksPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Enter the date as YYYY-MM-DD."), "", nil)
			return
		}
	} else if rt != export.ReportRecursive {
		s.callbacksPage(w, r, pr, http.StatusBadRequest, translate(pr.lang, "Enter the symptom onset or test date."), "", nil)
		return
	}
	c, v, err := s.IssueCodeForCallback(r.Context(), id, req)
	switch {
	case errors.Is(err, ErrNoCallback):
		s.callbacksPage(w, r, pr, http.StatusNotFound, fmt.Sprintf(translate(pr.lang, "Callback request #%d was handled already or has expired."), id), "", nil)
	case err != nil:
		s.callbacksPage(w, r, pr, http.StatusBadRequest, err.Error(), "", nil)
	default:
		level := "F0"
		if rt == export.ReportRecursive {
			level = "F1"
		}
		s.callbacksPage(w, r, pr, http.StatusOK, "", fmt.Sprintf(translate(pr.lang, "Callback request #%d handled and deleted."), id),
			&callbacksData{Issued: c, IssuedTo: v.PhoneNumber, IssuedLevel: level})
	}
}
