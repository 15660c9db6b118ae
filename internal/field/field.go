// Package field carries request values from the HTTP layer to domain code
// without losing the difference between absent, null and empty.
package field

// Str is an optional string input: Set says whether the field was present,
// Null whether it was JSON null, Invalid whether it was present but not a
// string (or number).
type Str struct {
	V       string
	Set     bool
	Null    bool
	Invalid bool
}

// Present reports a non-null value was sent.
func (s Str) Present() bool { return s.Set && !s.Null }
