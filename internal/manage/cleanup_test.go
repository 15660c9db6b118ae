package manage_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/app"
	"github.com/cvimprover/cvimprover/internal/auth/password"
	"github.com/cvimprover/cvimprover/internal/cv"
	"github.com/cvimprover/cvimprover/internal/files"
	"github.com/cvimprover/cvimprover/internal/manage"
	"github.com/cvimprover/cvimprover/internal/store"
	"github.com/cvimprover/cvimprover/internal/testenv"
)

// addResponse gives the test user one more questionnaire with an AI response
// created at the given time.
func addResponse(t *testing.T, a *app.App, created time.Time, pdfKey string) (qid, aid int64) {
	t.Helper()
	ctx := context.Background()
	u, err := a.DB.UserByUsername(ctx, a.DB.Handle(), manage.TestUsername)
	if err != nil {
		t.Fatal(err)
	}
	qid, err = a.DB.CreateQuestionnaire(ctx, a.DB.Handle(), cv.Questionnaire{UserID: u.ID, Position: "Recent",
		Industry: "Technology", ExperienceLevel: "3-5", CompanySize: "small", ApplicationTimeline: "immediate",
		SubmittedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	aid, err = a.DB.InsertAIResponse(ctx, a.DB.Handle(), store.TestAIResponse{QuestionnaireID: qid, UserID: u.ID,
		Text: "recent", Status: cv.StatusSucceeded, CreatedAt: created})
	if err != nil {
		t.Fatal(err)
	}
	if pdfKey != "" {
		if _, err := a.DB.SetAIPDF(ctx, aid, pdfKey); err != nil {
			t.Fatal(err)
		}
	}
	return qid, aid
}

func TestCreateTestDataThenCleanupDeletesExactlyTheOldResponses(t *testing.T) {
	for _, dialect := range testenv.Dialects {
		t.Run(dialect, func(t *testing.T) {
			a := newApp(t, dialect, false)
			db := a.DB
			r := run{}.exec(t, a, "create-test-data", "--count", "5")
			r.want(t, 0, "Created test user", "Created test questionnaire and AI response 5", "Created 5 test records dated ")

			var old []int64
			rows := ids(t, db, `SELECT id FROM ai_responses ORDER BY id`)
			old = append(old, rows...)
			if len(old) != 5 {
				t.Fatalf("%d AI responses after create-test-data, want 5", len(old))
			}
			if n := count(t, db, `SELECT COUNT(*) FROM ai_responses WHERE status = 'succeeded'
				AND response_text LIKE 'This is a test AI response % that should be cleaned up.'`); n != 5 {
				t.Errorf("%d responses have the test text and status, want 5", n)
			}
			// Newer responses, one just inside the 90 days, must survive.
			_, keep1 := addResponse(t, a, time.Now().Add(-89*24*time.Hour), "")
			_, keep2 := addResponse(t, a, time.Now(), "")
			questionnaires := count(t, db, `SELECT COUNT(*) FROM questionnaires`)
			if questionnaires != 7 {
				t.Fatalf("%d questionnaires, want 7", questionnaires)
			}

			r = run{}.exec(t, a, "cleanup-old-data", "--days", "90", "--force")
			r.want(t, 0, "Starting cleanup process...", "Cutoff date: ", "Found 5 AI response(s) older than cutoff date",
				"Deleted 5 AI response(s)", "Cleanup process completed successfully!")
			if got := ids(t, db, `SELECT id FROM ai_responses ORDER BY id`); !slices.Equal(got, []int64{keep1, keep2}) {
				t.Errorf("remaining AI responses %v, want %v", got, []int64{keep1, keep2})
			}
			if n := count(t, db, `SELECT COUNT(*) FROM questionnaires`); n != questionnaires {
				t.Errorf("%d questionnaires after cleanup, want %d (never deleted)", n, questionnaires)
			}

			r = run{}.exec(t, a, "cleanup-old-data", "--days", "90", "--yes")
			r.want(t, 0, "No old AI responses found.", "Cleanup process completed successfully!")
		})
	}
}

func TestCreateTestDataReusesTheUser(t *testing.T) {
	a := newApp(t, store.SQLite, false)
	run{}.exec(t, a, "create-test-data", "--count", "2").want(t, 0)
	r := run{}.exec(t, a, "create-test-data")
	r.want(t, 0, "Created 5 test records")
	if strings.Contains(r.out, "Created test user") {
		t.Error("second run created the user again")
	}
	if n := count(t, a.DB, `SELECT COUNT(*) FROM users WHERE username = $1`, manage.TestUsername); n != 1 {
		t.Fatalf("%d test users", n)
	}
	if n := count(t, a.DB, `SELECT COUNT(*) FROM questionnaires`); n != 7 {
		t.Errorf("%d questionnaires, want 7", n)
	}
	u, err := a.DB.UserByUsername(context.Background(), a.DB.Handle(), manage.TestUsername)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != manage.TestEmail || u.FirstName != "Test" || u.LastName != "User" || u.PlanName != "Free" {
		t.Errorf("test user %+v", u)
	}
	if !strings.HasPrefix(u.Password, "argon2") {
		t.Errorf("password hash %q is not argon2", u.Password)
	}
	if ok, _, err := password.Verify(manage.TestPassword, u.Password); !ok || err != nil {
		t.Errorf("test password does not verify: %v", err)
	}
	run{}.exec(t, a, "create-test-data", "--count", "0").want(t, 2)
}

func TestCleanupDryRunChangesNothing(t *testing.T) {
	for _, dialect := range testenv.Dialects {
		t.Run(dialect, func(t *testing.T) {
			a := newApp(t, dialect, false)
			run{}.exec(t, a, "create-test-data", "--count", "12").want(t, 0)
			r := run{}.exec(t, a, "cleanup-old-data", "--dry-run")
			r.want(t, 0, "Running in DRY-RUN mode - no changes will be made", "Found 12 AI response(s)",
				"[DRY-RUN] Would delete these AI responses:", "... and 2 more", "Cleanup process completed successfully!")
			if n := strings.Count(r.out, "     - Response "); n != 10 {
				t.Errorf("%d responses listed, want 10", n)
			}
			if !strings.Contains(r.out, " from ") || !strings.Contains(r.out, "+00:00") {
				t.Errorf("listing lacks the creation time: %s", r.out)
			}
			if n := count(t, a.DB, `SELECT COUNT(*) FROM ai_responses`); n != 12 {
				t.Errorf("dry run left %d AI responses, want 12", n)
			}
		})
	}
}

func TestCleanupConfirmation(t *testing.T) {
	a := newApp(t, store.SQLite, false)
	run{}.exec(t, a, "create-test-data", "--count", "3").want(t, 0)
	const prompt = "Warning: Delete 3 AI response(s)? [y/N]: "

	// Not a terminal: the answer waiting on stdin is not read, nothing is deleted.
	r := run{stdin: "y\n"}.exec(t, a, "cleanup-old-data")
	r.want(t, 3, prompt, "stdin is not a terminal", "Skipped AI response cleanup.")
	if strings.Contains(r.out, "completed successfully") {
		t.Error("a declined cleanup reported success")
	}
	if n := count(t, a.DB, `SELECT COUNT(*) FROM ai_responses`); n != 3 {
		t.Fatalf("%d AI responses left, want 3", n)
	}

	for _, answer := range []string{"n\n", "\n", "", "nope\n"} {
		r := run{stdin: answer, interactive: true}.exec(t, a, "cleanup-old-data")
		r.want(t, 3, prompt, "Skipped AI response cleanup.")
		if n := count(t, a.DB, `SELECT COUNT(*) FROM ai_responses`); n != 3 {
			t.Fatalf("answer %q: %d AI responses left, want 3", answer, n)
		}
	}

	r = run{stdin: "YES\n", interactive: true}.exec(t, a, "cleanup-old-data")
	r.want(t, 0, prompt, "Deleted 3 AI response(s)")
	if n := count(t, a.DB, `SELECT COUNT(*) FROM ai_responses`); n != 0 {
		t.Fatalf("%d AI responses left, want 0", n)
	}
}

func TestCleanupUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--days", "0"}, {"--days=-3"}, {"--days", "x"}, {"--bogus"}, {"extra"}} {
		r := run{}.exec(t, nil, "cleanup-old-data", args...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2", args, r.code)
		}
	}
	run{}.exec(t, nil, "cleanup-old-data", "--days", "0").wantErr(t, "Days must be a positive integer")
	if r := (run{}).exec(t, nil, "cleanup-old-data", "-h"); r.code != 0 || !strings.Contains(r.err, "-cleanup-files") {
		t.Errorf("-h: exit %d, usage %q", r.code, r.err)
	}
}

func TestCleanupManyResponsesShowsProgress(t *testing.T) {
	a := newApp(t, store.SQLite, false)
	run{}.exec(t, a, "create-test-data", "--count", "1").want(t, 0)
	ctx := context.Background()
	qid := ids(t, a.DB, `SELECT id FROM questionnaires`)[0]
	u, _ := a.DB.UserByUsername(ctx, a.DB.Handle(), manage.TestUsername)
	err := a.DB.InTx(ctx, func(tx store.Tx) error {
		for i := range 1200 {
			if _, err := a.DB.InsertAIResponse(ctx, tx, store.TestAIResponse{QuestionnaireID: qid, UserID: u.ID,
				Text: "bulk", Status: cv.StatusSucceeded, CreatedAt: time.Now().AddDate(0, 0, -200).Add(time.Duration(i) * time.Second)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := run{}.exec(t, a, "cleanup-old-data", "--force")
	r.want(t, 0, "... 500 of about 1201 deleted", "Deleted 1201 AI response(s)")
	if n := count(t, a.DB, `SELECT COUNT(*) FROM ai_responses`); n != 0 {
		t.Fatalf("%d left", n)
	}
}

func put(t *testing.T, fs files.Store, key string, size int, age time.Duration) {
	t.Helper()
	if err := fs.Put(context.Background(), key, bytes.NewReader(bytes.Repeat([]byte("x"), size)), int64(size), ""); err != nil {
		t.Fatal(err)
	}
	if age > 0 {
		l, ok := fs.(*files.Local)
		if !ok {
			t.Fatalf("file store is %T, want *files.Local", fs)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(filepath.Join(l.Dir(), filepath.FromSlash(key)), when, when); err != nil {
			t.Fatal(err)
		}
	}
}

func exists(t *testing.T, fs files.Store, key string) bool {
	t.Helper()
	rc, _, err := fs.Open(context.Background(), key)
	if err == nil {
		rc.Close()
		return true
	}
	return false
}

func TestCleanupFiles(t *testing.T) {
	for _, dialect := range testenv.Dialects {
		t.Run(dialect, func(t *testing.T) {
			a := newApp(t, dialect, false)
			ctx := context.Background()
			run{}.exec(t, a, "create-test-data", "--count", "1").want(t, 0)
			const (
				resume  = "resumes/1/aaaa/cv.pdf"
				pdf     = "generated/1/bbbb/out.pdf"
				orphan  = "resumes/1/cccc/old.pdf"
				orphan2 = "generated/1/dddd/gone.pdf"
				young   = "resumes/1/eeee/uploading.pdf"
			)
			put(t, a.Files, resume, 100, 48*time.Hour)
			put(t, a.Files, pdf, 100, 48*time.Hour)
			put(t, a.Files, orphan, 1024, 48*time.Hour)
			put(t, a.Files, orphan2, 512, 48*time.Hour)
			put(t, a.Files, young, 10, 0)
			qid, _ := addResponse(t, a, time.Now(), pdf)
			q, err := a.DB.QuestionnaireAny(ctx, qid)
			if err != nil {
				t.Fatal(err)
			}
			k := resume
			q.Resume = &k
			if err := a.DB.UpdateQuestionnaire(ctx, a.DB.Handle(), q); err != nil {
				t.Fatal(err)
			}

			r := run{}.exec(t, a, "cleanup-old-data", "--cleanup-files", "--dry-run")
			r.want(t, 0, "Found 5 file(s) in the file store", "Found 2 orphaned file(s)", "Total size: 1.5 KB",
				"- "+orphan+" (1.0 KB)", "- "+orphan2+" (512.0 B)", "Kept 1 unreferenced file(s) younger than 1h0m0s")
			for _, key := range []string{resume, pdf, orphan, orphan2, young} {
				if !exists(t, a.Files, key) {
					t.Fatalf("dry run removed %s", key)
				}
			}

			r = run{}.exec(t, a, "cleanup-old-data", "--cleanup-files")
			r.want(t, 3, "Warning: Delete 1 AI response(s)? [y/N]: ", "Warning: Delete 2 orphaned file(s) (1.5 KB)? [y/N]: ")
			if !exists(t, a.Files, orphan) {
				t.Fatal("declined file cleanup deleted a file")
			}

			r = run{}.exec(t, a, "cleanup-old-data", "--cleanup-files", "--force")
			r.want(t, 0, "Deleted 1 AI response(s)", "Deleted: "+orphan, "Deleted 2 orphaned file(s) (1.5 KB freed)")
			for key, want := range map[string]bool{resume: true, pdf: true, orphan: false, orphan2: false, young: true} {
				if got := exists(t, a.Files, key); got != want {
					t.Errorf("%s exists=%v, want %v", key, got, want)
				}
			}
			if _, err := os.Stat(filepath.Join(a.Files.(*files.Local).Dir(), "resumes", "1", "cccc")); !os.IsNotExist(err) {
				t.Errorf("the orphan's empty directory is still there: %v", err)
			}

			r = run{}.exec(t, a, "cleanup-old-data", "--cleanup-files", "--force", "--file-grace", "0")
			r.want(t, 0, "Deleted: "+young, "Deleted 1 orphaned file(s)")
			if !exists(t, a.Files, resume) || !exists(t, a.Files, pdf) {
				t.Error("referenced files were deleted")
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1, "1.0 B"}, {1023, "1023.0 B"}, {1024, "1.0 KB"}, {1536, "1.5 KB"},
		{5 << 20, "5.0 MB"}, {3 << 30, "3.0 GB"}, {2048 << 30, "2048.0 GB"}} {
		if got := manage.FormatSize(c.n); got != c.want {
			t.Errorf("FormatSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
