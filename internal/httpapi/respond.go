// Package httpapi is the HTTP face of the service: routing, middleware,
// handlers per area, and the one place where errors become responses.
package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// writeJSON renders v compactly, without HTML escaping, as the original's
// DRF renderer does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		http.Error(w, `{"detail":"Internal server error."}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeRaw writes an already rendered JSON body.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Time renders instants as the original: UTC, microseconds, Z suffix.
type Time time.Time

func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + FormatTime(time.Time(t)) + `"`), nil
}

// FormatTime is the one datetime format of the API (CONTRACT §2).
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// detail is DRF's {"detail": …} body.
type detail struct {
	Detail string `json:"detail"`
}
