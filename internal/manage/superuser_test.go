package manage_test

import (
	"context"
	"slices"
	"testing"

	"github.com/cvimprover/cvimprover/internal/auth/password"
	"github.com/cvimprover/cvimprover/internal/manage"
	"github.com/cvimprover/cvimprover/internal/store"
	"github.com/cvimprover/cvimprover/internal/testenv"
)

const goodPassword = "Correct-Horse-Battery-9"

func TestCreateSuperuser(t *testing.T) {
	for _, dialect := range testenv.Dialects {
		t.Run(dialect, func(t *testing.T) {
			a := newApp(t, dialect, false)
			ctx := context.Background()
			r := run{}.exec(t, a, "create-superuser", "--username", "admin", "--email", "Admin@Example.com", "--password", goodPassword)
			r.want(t, 0, manage.MsgSuperuserCreated)
			u, err := a.DB.UserByUsername(ctx, a.DB.Handle(), "admin")
			if err != nil {
				t.Fatal(err)
			}
			if !u.IsStaff || !u.IsSuperuser || !u.IsActive || u.PlanName != "Free" || u.Email != "admin@example.com" || !u.EmailVerified {
				t.Errorf("superuser %+v", u)
			}
			if ok, _, _ := password.Verify(goodPassword, u.Password); !ok {
				t.Error("password does not verify")
			}

			// Duplicates: same username in another case, same e-mail.
			r = run{}.exec(t, a, "create-superuser", "--username", "ADMIN", "--password", goodPassword)
			r.want(t, 1)
			r.wantErr(t, manage.MsgUsernameTaken)
			r = run{}.exec(t, a, "create-superuser", "--username", "admin2", "--email", "admin@example.com", "--password", goodPassword)
			r.want(t, 1)
			r.wantErr(t, manage.MsgEmailTaken)
			if n := count(t, a.DB, `SELECT COUNT(*) FROM users`); n != 1 {
				t.Errorf("%d users, want 1", n)
			}
		})
	}
}

func TestCreateSuperuserValidationAndNonInteractive(t *testing.T) {
	a := newApp(t, store.SQLite, false)
	cases := []struct {
		name string
		r    run
		args []string
		code int
		err  string
	}{
		{"weak password", run{}, []string{"--username", "a1", "--password", "password123"}, 2, "This password is too common."},
		{"short password", run{}, []string{"--username", "a1", "--password", "Ab1!"}, 2, "too short"},
		{"similar password", run{}, []string{"--username", "marvellous", "--password", "marvellous1"}, 2, "too similar"},
		{"bad username", run{}, []string{"--username", "no spaces", "--password", goodPassword}, 2, "Enter a valid username."},
		{"bad e-mail", run{}, []string{"--username", "a1", "--email", "x@mailinator.com", "--password", goodPassword}, 2, "--email"},
		{"no username off a terminal", run{}, []string{"--password", goodPassword}, 2, "--username is required (stdin is not a terminal)"},
		{"no password off a terminal", run{}, []string{"--username", "a1"}, 2, "CVIMPROVER_SUPERUSER_PASSWORD is required"},
		{"--yes forbids prompts", run{interactive: true, canHide: true}, []string{"--username", "a1", "--yes"}, 2, "--yes forbids prompting"},
		{"no hidden input", run{interactive: true, stdin: "pw\npw\n"}, []string{"--username", "a1", "--email", ""}, 2, "cannot read a password without echoing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.r.exec(t, a, "create-superuser", c.args...)
			r.want(t, c.code)
			r.wantErr(t, c.err)
		})
	}
	if n := count(t, a.DB, `SELECT COUNT(*) FROM users`); n != 0 {
		t.Fatalf("%d users created by refused commands", n)
	}

	// The password may come from the environment.
	r := run{env: map[string]string{manage.SuperuserPasswordEnv: goodPassword}}.exec(t, a, "create-superuser", "--username", "envadmin")
	r.want(t, 0, manage.MsgSuperuserCreated)
}

func TestCreateSuperuserInteractive(t *testing.T) {
	a := newApp(t, store.SQLite, false)
	run{}.exec(t, a, "create-superuser", "--username", "taken", "--password", goodPassword).want(t, 0)
	stdin := "taken\nroot\n" + // taken, then free
		"not-an-email\nroot@example.com\n" +
		goodPassword + "\nsomething else\n" + // mismatch
		"12345678\n12345678\n" + // numeric and common
		goodPassword + "\n" + goodPassword + "\n"
	r := run{stdin: stdin, interactive: true, canHide: true}.exec(t, a, "create-superuser")
	r.want(t, 0, "Username: ", "Email address: ", "Password: ", "Password (again): ", manage.MsgSuperuserCreated)
	r.wantErr(t, manage.MsgUsernameTaken, "Enter a valid email address.", manage.MsgPasswordsMismatch,
		"This password is entirely numeric.")
	// Echo went off and back on around each of the six password reads.
	if want := []bool{false, true, false, true, false, true, false, true, false, true, false, true}; !slices.Equal(r.echo, want) {
		t.Errorf("echo switches %v, want %v", r.echo, want)
	}
	u, err := a.DB.UserByUsername(context.Background(), a.DB.Handle(), "root")
	if err != nil || !u.IsSuperuser || u.Email != "root@example.com" {
		t.Fatalf("root: %+v, %v", u, err)
	}

	// Input ending half-way aborts.
	r = run{stdin: "other\n", interactive: true, canHide: true}.exec(t, a, "create-superuser")
	r.want(t, 3)
	if _, err := a.DB.UserByUsername(context.Background(), a.DB.Handle(), "other"); err == nil {
		t.Error("aborted command created the user")
	}
}
