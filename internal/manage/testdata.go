package manage

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/cvimprover/cvimprover/internal/auth/password"
	"github.com/cvimprover/cvimprover/internal/cv"
	"github.com/cvimprover/cvimprover/internal/store"
)

// The test account of create-test-data (REFERENCE §9.4).
const (
	TestUsername = "cleanup_test_user"
	TestEmail    = "test@example.com"
	// TestPassword is set directly, without the password validators: the
	// account exists to exercise the cleanup, not to be a real account.
	TestPassword = "testpass123"
	// TestDataAge is how far back the AI responses are dated.
	TestDataAge = 100 * 24 * time.Hour
)

func parseTestData(fs *flag.FlagSet, args []string) (runner, error) {
	count := fs.Int("count", 5, "number of questionnaires (each with one old AI response) to create")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("unexpected argument %q", pos[0])
	}
	if *count <= 0 {
		return nil, usagef("Count must be a positive integer")
	}
	n := *count
	return func(ctx context.Context, o *IO, d Deps) error { return CreateTestData(ctx, o, d, n) }, nil
}

// CreateTestData is create-test-data: it gets or creates the test user and
// gives it count questionnaires, each with one succeeded AI response dated
// 100 days back, for trying cleanup-old-data.
func CreateTestData(ctx context.Context, o *IO, d Deps, count int) error {
	if count <= 0 {
		return usagef("Count must be a positive integer")
	}
	o.println("🔧 Creating test data for cleanup testing...")
	u, err := d.DB.UserByUsername(ctx, d.DB.Handle(), TestUsername)
	switch {
	case errors.Is(err, store.ErrNotFound):
		hash, err := password.Hash(TestPassword)
		if err != nil {
			return err
		}
		id, err := d.DB.CreateUser(ctx, d.DB.Handle(), store.NewUser{Username: TestUsername, Email: TestEmail,
			PasswordHash: hash, FirstName: "Test", LastName: "User", DateJoined: o.now()})
		if err != nil {
			if c, ok := store.IsConflict(err); ok {
				return failf("cannot create %s: another account already uses that %s", TestUsername, conflictField(c))
			}
			return fmt.Errorf("creating the test user: %w", err)
		}
		u.ID = id
		o.println("   Created test user")
	case err != nil:
		return fmt.Errorf("looking up the test user: %w", err)
	}
	now := o.now().UTC()
	old := now.Add(-TestDataAge)
	for i := 1; i <= count; i++ {
		loc, jd := "Remote", fmt.Sprintf("Test job description %d", i)
		err := d.DB.InTx(ctx, func(tx store.Tx) error {
			qid, err := d.DB.CreateQuestionnaire(ctx, tx, cv.Questionnaire{UserID: u.ID,
				Position: fmt.Sprintf("Test Position %d", i), Industry: "Technology", ExperienceLevel: "3-5",
				CompanySize: "medium", Location: &loc, ApplicationTimeline: "1-3 months", JobDescription: &jd,
				SubmittedAt: now})
			if err != nil {
				return err
			}
			_, err = d.DB.InsertAIResponse(ctx, tx, store.TestAIResponse{QuestionnaireID: qid, UserID: u.ID,
				Text:   fmt.Sprintf("This is a test AI response %d that should be cleaned up.", i),
				Status: cv.StatusSucceeded, CreatedAt: old})
			return err
		})
		if err != nil {
			return fmt.Errorf("creating test record %d (the %d before it were kept): %w", i, i-1, err)
		}
		o.printf("   Created test questionnaire and AI response %d\n", i)
	}
	o.printf("Created %d test records dated %s\n", count, old.Format(time.DateOnly))
	o.println("You can now test the cleanup command with --dry-run")
	return nil
}

func conflictField(constraint string) string {
	if strings.Contains(constraint, "email") {
		return "e-mail address"
	}
	return "username"
}
