package httpapi

import (
	"context"
	"net/http"
	"time"
)

type healthBody struct {
	Overall  string         `json:"overall"`
	Services healthServices `json:"services"`
}

type healthServices struct {
	DB     string `json:"db"`
	Redis  string `json:"redis"`
	OpenAI string `json:"openai"`
}

func state(err error) string {
	if err != nil {
		return "unhealthy"
	}
	return "healthy"
}

// health is REFERENCE §11: db and cache service checked in parallel with a
// short deadline; "redis" reports the cache service, which is the in-process
// cache in the embedded default. It is never rate limited.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	dbErr := make(chan error, 1)
	go func() { dbErr <- s.DB.Ping(ctx) }()
	cacheErr := make(chan error, 1)
	go func() { cacheErr <- s.Cache.Ping(ctx) }()
	ai := "skipped"
	if s.AI != nil {
		ai = s.AI(ctx)
	}
	b := healthBody{Services: healthServices{DB: state(<-dbErr), Redis: state(<-cacheErr), OpenAI: ai}}
	status := http.StatusOK
	b.Overall = "healthy"
	if b.Services.DB != "healthy" || b.Services.Redis != "healthy" {
		b.Overall, status = "unhealthy", http.StatusServiceUnavailable
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, b)
}
