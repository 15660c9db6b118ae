package httpapi

import "github.com/go-chi/chi/v5"

// billingRoutes mounts the Stripe endpoints (owned by the billing work).
func (s *Server) billingRoutes(r chi.Router) {}
