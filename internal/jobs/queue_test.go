package jobs_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/cvimprover/cvimprover/internal/jobs"
	"github.com/cvimprover/cvimprover/internal/store"
	"github.com/cvimprover/cvimprover/internal/testenv"
)

// seedAI inserts a user, a questionnaire and two AI responses, one of them
// 100 days old.
func seedAI(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	mustExec := func(q string, args ...any) {
		if _, err := db.SQL.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	mustExec(`INSERT INTO users (id, password, username, username_fold, date_joined, updated_at) VALUES (1, '!', 'u', 'u', $1, $1)`, now)
	mustExec(`INSERT INTO questionnaires (id, user_id, position, industry, experience_level, company_size, application_timeline, submitted_at, updated_at)
		VALUES (1, 1, 'p', 'i', '3-5', 'small', 'immediate', $1, $1)`, now)
	mustExec(`INSERT INTO ai_responses (questionnaire_id, user_id, response_text, created_at) VALUES (1, 1, 'old', $1)`, now.AddDate(0, 0, -100))
	mustExec(`INSERT INTO ai_responses (questionnaire_id, user_id, response_text, created_at) VALUES (1, 1, 'new', $1)`, now)
}

func TestCleanupJobRunsOnBothDatabases(t *testing.T) {
	for _, dialect := range testenv.Dialects {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := testenv.OpenDB(t, dialect)
			if err := jobs.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			seedAI(t, db)
			q := jobs.New(db, jobs.Options{Work: true, PollInterval: 50 * time.Millisecond})
			done := make(chan store.CleanupCounts, 1)
			river.AddWorker(q.Workers, &jobs.CleanupWorker{DB: db, OnDone: func(c store.CleanupCounts) { done <- c }})
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer q.Stop(context.Background())

			// Transactional enqueue: a rolled-back transaction leaves no job.
			tx, err := db.SQL.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q.InsertTx(ctx, tx, jobs.CleanupArgs{RetentionDays: 90}, nil); err != nil {
				t.Fatal(err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("jobs after rollback = %d, %v", n, err)
			}

			err = db.InTx(ctx, func(tx *sql.Tx) error {
				_, err := q.InsertTx(ctx, tx, jobs.CleanupArgs{RetentionDays: 90}, nil)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case c := <-done:
				if c.AIResponses != 1 {
					t.Fatalf("deleted %d AI responses, want 1", c.AIResponses)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("cleanup job did not run")
			}
			var left string
			if err := db.SQL.QueryRowContext(ctx, `SELECT response_text FROM ai_responses`).Scan(&left); err != nil || left != "new" {
				t.Fatalf("left %q, %v", left, err)
			}
		})
	}
}
