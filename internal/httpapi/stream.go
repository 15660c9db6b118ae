package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cvimprover/cvimprover/internal/cv"
	"github.com/cvimprover/cvimprover/internal/files"
)

// aiEvents streams a generation's status changes and text as it arrives
// (server-sent events). The state is read from the cache service, so this
// works on any instance while the job runs on another.
func (s *Server) aiEvents(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.userAndID(w, r)
	if !ok {
		return
	}
	if _, err := s.CV.AIResponse(r.Context(), u.ID, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, v any) bool {
		b, _ := json.Marshal(v)
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	ctx := r.Context()
	lastStatus, sent := "", 0
	deadline := time.Now().Add(15 * time.Minute)
	heartbeat := time.Now()
	for time.Now().Before(deadline) {
		status, text, errMsg, err := s.CV.State(ctx, id)
		if err != nil {
			return
		}
		if status != lastStatus {
			lastStatus = status
			if !send("status", map[string]string{"status": status}) {
				return
			}
		}
		if len(text) > sent && status != cv.StatusFailed {
			if !send("delta", map[string]string{"text": text[sent:]}) {
				return
			}
			sent = len(text)
		}
		if status == cv.StatusSucceeded || status == cv.StatusFailed {
			a, err := s.CV.AIResponse(ctx, u.ID, id)
			if err == nil {
				v := s.aView(r, a)
				send("done", v)
			} else {
				send("done", map[string]string{"status": status, "error": errMsg})
			}
			return
		}
		if time.Since(heartbeat) > 15*time.Second {
			heartbeat = time.Now()
			_, _ = io.WriteString(w, ": keep-alive\n\n")
			_ = rc.Flush()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// signer is what serving local files needs from the store.
type signer interface{ Signer() files.Signer }

// serveFile streams a stored file for a valid signed URL. Anything else is
// 403: files are never public, and their keys are not listed.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	key := chi.URLParam(r, "*")
	sg, ok := s.CV.Files.(signer)
	if !ok {
		writeJSON(w, http.StatusNotFound, detail{"Not found."})
		return
	}
	q := r.URL.Query()
	if err := sg.Signer().Verify(key, q.Get("expires"), q.Get("sig"), time.Now()); err != nil {
		writeJSON(w, http.StatusForbidden, detail{"This link is invalid or has expired."})
		return
	}
	f, info, err := s.CV.Files.Open(r.Context(), key)
	if err != nil {
		if errors.Is(err, files.ErrNotFound) || errors.Is(err, files.ErrInvalidKey) {
			writeJSON(w, http.StatusNotFound, detail{"Not found."})
			return
		}
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", info.ContentType)
	h.Set("Content-Length", strconv.FormatInt(info.Size, 10))
	h.Set("Content-Disposition", files.ContentDisposition(key))
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, f)
	}
}
