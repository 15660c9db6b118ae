package httpapi

import (
	"net/http"

	"github.com/cvimprover/cvimprover/internal/accounts"
)

// currentUser is the authenticated caller, or nil. Authentication itself
// arrives with the accounts issue; until then every caller is anonymous.
func (s *Server) currentUser(r *http.Request) *accounts.User {
	return nil
}
