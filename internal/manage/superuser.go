package manage

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/cvimprover/cvimprover/internal/auth/emailrule"
	"github.com/cvimprover/cvimprover/internal/auth/password"
	"github.com/cvimprover/cvimprover/internal/auth/username"
	"github.com/cvimprover/cvimprover/internal/store"
)

// SuperuserPasswordEnv supplies create-superuser's password without putting
// it on the command line (where other users can see it in the process list).
const SuperuserPasswordEnv = "CVIMPROVER_SUPERUSER_PASSWORD"

// Messages of create-superuser (Django's createsuperuser wording).
const (
	MsgUsernameTaken     = "That username is already taken."
	MsgEmailTaken        = "That e-mail address is already in use."
	MsgPasswordsMismatch = "Your passwords didn't match."
	MsgBlankPassword     = "Blank passwords aren't allowed."
	MsgSuperuserCreated  = "Superuser created successfully."
)

// maxAttempts bounds re-prompting after invalid interactive answers.
const maxAttempts = 3

// SuperuserOptions are the flags of create-superuser.
type SuperuserOptions struct {
	Username string
	Email    string
	// EmailSet: --email was given (possibly empty: no address, no question).
	EmailSet bool
	Password string
	// NoInput: never ask; whatever is missing is an error (--yes, --no-input).
	NoInput bool
}

func parseSuperuser(fs *flag.FlagSet, args []string) (runner, error) {
	var opt SuperuserOptions
	fs.StringVar(&opt.Username, "username", "", "login name")
	fs.StringVar(&opt.Email, "email", "", "e-mail address (optional)")
	fs.StringVar(&opt.Password, "password", "", "password (prefer the "+SuperuserPasswordEnv+" environment variable)")
	fs.BoolVar(&opt.NoInput, "yes", false, "never prompt: fail if a value is missing")
	fs.BoolVar(&opt.NoInput, "no-input", false, "same as --yes")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("unexpected argument %q", pos[0])
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "email" {
			opt.EmailSet = true
		}
	})
	return func(ctx context.Context, o *IO, d Deps) error { return CreateSuperuser(ctx, o, d, opt) }, nil
}

// CreateSuperuser creates a staff + superuser account, validated like a
// registration (username rules, e-mail rules, password validators). It asks
// for missing values only on a terminal. The e-mail address, typed by the
// operator, counts as verified.
func CreateSuperuser(ctx context.Context, o *IO, d Deps, opt SuperuserOptions) error {
	interactive := o.Interactive && !opt.NoInput
	why := "stdin is not a terminal"
	if opt.NoInput {
		why = "--yes forbids prompting"
	}
	db := d.DB

	// Username.
	var uname string
	if opt.Username != "" {
		clean, msgs := username.Clean(opt.Username)
		if len(msgs) > 0 {
			return usagef("--username: %s", strings.Join(msgs, " "))
		}
		if taken, err := db.UsernameTaken(ctx, db.Handle(), clean, 0); err != nil {
			return err
		} else if taken {
			return failf("%s", MsgUsernameTaken)
		}
		uname = clean
	} else {
		if !interactive {
			return usagef("--username is required (%s)", why)
		}
		for attempt := 1; ; attempt++ {
			s, err := o.ask(ctx, "Username: ")
			if err != nil {
				return inputErr(err)
			}
			clean, msgs := username.Clean(s)
			if len(msgs) == 0 {
				taken, err := db.UsernameTaken(ctx, db.Handle(), clean, 0)
				if err != nil {
					return err
				}
				if taken {
					msgs = []string{MsgUsernameTaken}
				}
			}
			if len(msgs) == 0 {
				uname = clean
				break
			}
			printErrors(o, msgs)
			if attempt >= maxAttempts {
				return usagef("no valid username given")
			}
		}
	}

	// E-mail (optional).
	var email string
	checkEmail := func(raw string) (string, []string, error) {
		if strings.TrimSpace(raw) == "" {
			return "", nil, nil
		}
		norm, err := emailrule.Normalize(raw)
		if err != nil {
			return "", []string{err.Error()}, nil
		}
		taken, err := db.EmailTaken(ctx, db.Handle(), norm, 0)
		if err != nil {
			return "", nil, err
		}
		if taken {
			return "", []string{MsgEmailTaken}, nil
		}
		return norm, nil, nil
	}
	switch {
	case opt.EmailSet || opt.Email != "":
		norm, msgs, err := checkEmail(opt.Email)
		if err != nil {
			return err
		}
		if len(msgs) == 1 && msgs[0] == MsgEmailTaken {
			return failf("%s", MsgEmailTaken)
		}
		if len(msgs) > 0 {
			return usagef("--email: %s", strings.Join(msgs, " "))
		}
		email = norm
	case interactive:
		for attempt := 1; ; attempt++ {
			s, err := o.ask(ctx, "Email address: ")
			if err != nil {
				return inputErr(err)
			}
			norm, msgs, err := checkEmail(s)
			if err != nil {
				return err
			}
			if len(msgs) == 0 {
				email = norm
				break
			}
			printErrors(o, msgs)
			if attempt >= maxAttempts {
				return usagef("no valid e-mail address given")
			}
		}
	}

	// Password.
	attrs := password.UserAttrs{Username: uname, Email: email}
	pw := opt.Password
	if pw == "" {
		pw = o.getenv(SuperuserPasswordEnv)
	}
	if pw != "" {
		if msgs := password.Validate(pw, attrs); len(msgs) > 0 {
			return usagef("password: %s", strings.Join(msgs, " "))
		}
	} else {
		if !interactive {
			return usagef("--password or %s is required (%s)", SuperuserPasswordEnv, why)
		}
		if o.SetEcho == nil {
			return usagef("cannot read a password without echoing it here; use %s or --password", SuperuserPasswordEnv)
		}
		for attempt := 1; ; attempt++ {
			p1, err := o.askSecret(ctx, "Password: ")
			if err != nil {
				return inputErr(err)
			}
			p2, err := o.askSecret(ctx, "Password (again): ")
			if err != nil {
				return inputErr(err)
			}
			var msgs []string
			switch {
			case p1 != p2:
				msgs = []string{MsgPasswordsMismatch}
			case strings.TrimSpace(p1) == "":
				msgs = []string{MsgBlankPassword}
			default:
				msgs = password.Validate(p1, attrs)
			}
			if len(msgs) == 0 {
				pw = p1
				break
			}
			printErrors(o, msgs)
			if attempt >= maxAttempts {
				return usagef("no acceptable password given")
			}
		}
	}

	hash, err := password.Hash(pw)
	if err != nil {
		return err
	}
	id, err := db.CreateUser(ctx, db.Handle(), store.NewUser{Username: uname, Email: email, PasswordHash: hash,
		EmailVerified: email != "", IsStaff: true, IsSuperuser: true, DateJoined: o.now()})
	if err != nil {
		if c, ok := store.IsConflict(err); ok {
			if strings.Contains(c, "email") {
				return failf("%s", MsgEmailTaken)
			}
			return failf("%s", MsgUsernameTaken)
		}
		return fmt.Errorf("creating the superuser: %w", err)
	}
	o.println(MsgSuperuserCreated)
	if u, err := db.UserByID(ctx, db.Handle(), id); err == nil {
		o.printf("   id %d, username %s, e-mail %s, plan %s\n", u.ID, u.Username, orNone(u.Email), u.PlanOrFree())
	}
	return nil
}

func printErrors(o *IO, msgs []string) {
	for _, m := range msgs {
		fmt.Fprintln(o.Err, "Error:", m)
	}
}

func inputErr(err error) error {
	if errors.Is(err, errReadAborted) {
		return declinedf("aborted")
	}
	return declinedf("aborted (input ended)")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
