package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bluezone-vn/bluezone/store"
)

// APIKeyStore keeps the apps' API keys (store.DB implements it).
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k store.APIKey) (int64, error)
	APIKeys(ctx context.Context) ([]store.APIKey, error)
	RevokeAPIKey(ctx context.Context, id int64, now time.Time) (store.APIKey, error)
}

// Platforms an app may be registered for.
var apiKeyPlatforms = []string{"android", "ios", "linux", "web", "other"}

// appNamePattern is what an Android package name or iOS bundle ID looks
// like: letters, digits, dots, dashes and underscores.
var appNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,199}$`)

// NewAPIKey is a new app registration: Key is shown once and never stored.
type NewAPIKey struct {
	store.APIKey
	Key string
}

// CreateAPIKey registers an app and returns its new API key. name is the
// app's identifier (Android package name or iOS bundle ID), which its
// publishes name as healthAuthorityID; by is who creates it, for the audit
// log.
func (s *Server) CreateAPIKey(ctx context.Context, name, platform, by string) (*NewAPIKey, error) {
	name, platform = strings.ToLower(strings.TrimSpace(name)), strings.ToLower(strings.TrimSpace(platform))
	if !appNamePattern.MatchString(name) {
		return nil, fmt.Errorf("api key: name %q: want the app's package name or bundle ID (letters, digits, . _ -)", name)
	}
	if !slicesContains(apiKeyPlatforms, platform) {
		return nil, fmt.Errorf("api key: platform %q: want one of %s", platform, strings.Join(apiKeyPlatforms, ", "))
	}
	if by == "" {
		return nil, errors.New("api key: who creates it is required")
	}
	key := "bzk_" + randomString(40, longCodeAlphabet) // about 200 bits
	k := store.APIKey{Name: name, Platform: platform, Hash: hashAPIKey(key), Prefix: key[:10], CreatedAt: s.now(), CreatedBy: by}
	id, err := s.db.CreateAPIKey(ctx, k)
	if err != nil {
		return nil, err
	}
	k.ID = id
	s.audit(ctx, by, "create_api_key", fmt.Sprintf("API key #%d (%s…) for %s on %s", id, k.Prefix, name, platform))
	return &NewAPIKey{APIKey: k, Key: key}, nil
}

// RevokeAPIKey revokes an app's key: its requests are refused from now on,
// and once an app has no key left, publishes naming it are refused too.
func (s *Server) RevokeAPIKey(ctx context.Context, id int64, by string) (store.APIKey, error) {
	if by == "" {
		return store.APIKey{}, errors.New("revoke api key: who revokes it is required")
	}
	k, err := s.db.RevokeAPIKey(ctx, id, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return k, fmt.Errorf("revoke api key %d: no such key, or revoked already: %w", id, err)
	}
	if err != nil {
		return k, err
	}
	s.audit(ctx, by, "revoke_api_key", fmt.Sprintf("API key #%d (%s…) for %s on %s", id, k.Prefix, k.Name, k.Platform))
	return k, nil
}

// APIKeys lists the registrations, newest first.
func (s *Server) APIKeys(ctx context.Context) ([]store.APIKey, error) { return s.db.APIKeys(ctx) }

func slicesContains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// apiKeysData is what apikeys.html shows.
type apiKeysData struct {
	Keys      []store.APIKey
	Platforms []string
	New       *NewAPIKey // just created: its key is shown this once
}

func (s *Server) apiKeyRoutes(mux *http.ServeMux) {
	mux.Handle("GET /portal/apikeys", s.authed(RoleAdmin, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		s.apiKeysPage(w, r, pr, http.StatusOK, nil, "", "")
	}))
	mux.Handle("POST /portal/apikeys", s.authed(RoleAdmin, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		k, err := s.CreateAPIKey(r.Context(), r.PostFormValue("name"), r.PostFormValue("platform"), pr.me.Email)
		if err != nil {
			s.apiKeysPage(w, r, pr, http.StatusBadRequest, nil, translate(pr.lang, "The app was not registered: give its package name or bundle ID, and a platform."), "")
			return
		}
		s.apiKeysPage(w, r, pr, http.StatusOK, k, "", "")
	}))
	mux.Handle("POST /portal/apikeys/{id}/revoke", s.authed(RoleAdmin, func(w http.ResponseWriter, r *http.Request, pr *portalRequest) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			s.errorPage(w, r, http.StatusNotFound, "No such page.")
			return
		}
		if _, err := s.RevokeAPIKey(r.Context(), id, pr.me.Email); err != nil {
			s.apiKeysPage(w, r, pr, http.StatusBadRequest, nil, translate(pr.lang, "No such key, or it was revoked already."), "")
			return
		}
		s.apiKeysPage(w, r, pr, http.StatusOK, nil, "", fmt.Sprintf(translate(pr.lang, "Revoked API key #%d."), id))
	}))
}

func (s *Server) apiKeysPage(w http.ResponseWriter, r *http.Request, pr *portalRequest, status int, k *NewAPIKey, errMsg, notice string) {
	keys, err := s.db.APIKeys(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(pr, "App API keys", apiKeysData{Keys: keys, Platforms: apiKeyPlatforms, New: k})
	p.Error, p.Notice = errMsg, notice
	s.render(w, r, status, "apikeys.html", p)
}
