package httpapi

import "net/http"

// listPlans is GET /core/plans/ (REFERENCE §7.1).
func (s *Server) listPlans(w http.ResponseWriter, r *http.Request) {
	var current int64
	if u := s.currentUser(r); u != nil && u.PlanID != nil {
		current = *u.PlanID
	}
	plans, err := s.Plans.Plans(r.Context(), r.URL.Query().Get("billing"), current)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, plans)
}
