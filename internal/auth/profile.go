package auth

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/auth/emailrule"
	"github.com/cvimprover/cvimprover/internal/auth/username"
	"github.com/cvimprover/cvimprover/internal/store"
)

// ProfileInput is PUT/PATCH /auth/user/. Read-only fields are not here:
// clients may echo them back and they are ignored.
type ProfileInput struct {
	Username, Email, FirstName, LastName, DateOfBirth Str
	// Partial is PATCH; PUT requires username.
	Partial bool
	// EmailReadOnly is the /auth/user (no slash) variant.
	EmailReadOnly bool
}

// UpdateProfile validates and writes the profile (REFERENCE §3.3 with the
// CONTRACT §3 fixes: the caller's own username is fine, case-insensitive
// uniqueness, plain-string e-mail errors).
func (s *Service) UpdateProfile(ctx context.Context, u *accounts.User, in ProfileInput) (*accounts.User, error) {
	f := newFieldErrs()
	var upd store.ProfileUpdate
	if !in.Partial && !in.Username.Set {
		f.add("username", apperr.MsgRequired)
	}
	if in.Username.Set {
		if in.Username.Null {
			f.add("username", apperr.MsgNull)
		} else if name, msgs := username.Clean(in.Username.V); len(msgs) > 0 {
			f.add("username", msgs...)
		} else if name != u.Username {
			taken, err := s.DB.UsernameTaken(ctx, s.DB.SQL, name, u.ID)
			if err != nil {
				return nil, err
			}
			if taken {
				f.add("username", MsgUsernameTaken)
			} else {
				upd.Username = &name
			}
		}
	}
	if in.Email.Set && !in.EmailReadOnly {
		switch {
		case in.Email.Null:
			f.add("email", apperr.MsgNull)
		case strings.TrimSpace(in.Email.V) == "":
			f.add("email", emailrule.MsgRequired)
		case !emailrule.Valid(strings.TrimSpace(in.Email.V)):
			f.add("email", MsgEmailInvalid)
		default:
			norm, err := emailrule.Normalize(in.Email.V)
			if err != nil {
				f.add("email", err.Error())
			} else if norm != u.Email {
				taken, err := s.DB.EmailTaken(ctx, s.DB.SQL, norm, u.ID)
				if err != nil {
					return nil, err
				}
				if taken {
					f.add("email", MsgEmailTakenProfile)
				} else {
					upd.Email = &norm
				}
			}
		}
	}
	for _, nf := range []struct {
		name string
		in   Str
		dst  **string
	}{{"first_name", in.FirstName, &upd.FirstName}, {"last_name", in.LastName, &upd.LastName}} {
		if !nf.in.Set {
			continue
		}
		if nf.in.Null {
			f.add(nf.name, apperr.MsgNull)
			continue
		}
		v := strings.TrimSpace(nf.in.V)
		if utf8.RuneCountInString(v) > 150 {
			f.add(nf.name, MsgTooLong150)
			continue
		}
		*nf.dst = &v
	}
	if in.DateOfBirth.Set {
		switch {
		case in.DateOfBirth.Null || strings.TrimSpace(in.DateOfBirth.V) == "":
			upd.SetDOB = true
		default:
			d, err := time.Parse("2006-01-02", strings.TrimSpace(in.DateOfBirth.V))
			if err != nil {
				f.add("date_of_birth", MsgDateFormat)
			} else {
				v := d.Format("2006-01-02")
				upd.SetDOB, upd.DateOfBirth = true, &v
			}
		}
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	if err := s.DB.UpdateProfile(ctx, s.DB.SQL, u.ID, upd); err != nil {
		if c, ok := store.IsConflict(err); ok {
			if strings.Contains(c, "email") {
				return nil, apperr.Field("email", MsgEmailTakenProfile)
			}
			return nil, apperr.Field("username", MsgUsernameTaken)
		}
		return nil, err
	}
	s.RefreshUser(ctx, u.ID)
	return s.User(ctx, u.ID)
}

// SetActive activates or deactivates an account; a deactivated user's
// sessions and tokens stop working at once (the cached entity is refreshed).
func (s *Service) SetActive(ctx context.Context, id int64, active bool) error {
	if err := s.DB.SetActive(ctx, s.DB.SQL, id, active); err != nil {
		return err
	}
	s.RefreshUser(ctx, id)
	return nil
}

// SetPlan moves a user to a plan (nil: none) and refreshes the cached
// entity, so limits and /auth/user/ see the change at once.
func (s *Service) SetPlan(ctx context.Context, id int64, planID *int64) error {
	if err := s.DB.SetPlan(ctx, s.DB.SQL, id, planID); err != nil {
		return err
	}
	s.RefreshUser(ctx, id)
	return nil
}
