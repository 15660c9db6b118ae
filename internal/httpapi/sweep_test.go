package httpapi_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/cvimprover/cvimprover/internal/apptest"
)

func TestOrphanedFilesAreSwept(t *testing.T) {
	inst, auth := registered(t, apptest.Backends[0], apptest.Options{}, "sweeper")
	pdfBytes, err := os.ReadFile("../../testdata/pdf/cv-one-page.pdf")
	if err != nil {
		t.Fatal(err)
	}
	body, ct := multipartBody(t, validQ, "resume", "cv.pdf", pdfBytes)
	if r := inst.Do("POST", "/cv/questionnaire/", body, ct, auth); r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	ctx := context.Background()
	// An orphan: stored but referenced by nothing.
	orphan := "resumes/1/deadbeefdeadbeefdeadbeefdeadbeef/orphan.pdf"
	if err := inst.App.Files.Put(ctx, orphan, bytes.NewReader(pdfBytes), int64(len(pdfBytes)), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	// Fresh files are left alone.
	if n, err := inst.App.CV.SweepOrphans(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("fresh sweep: %d %v", n, err)
	}
	if n, err := inst.App.CV.SweepOrphans(ctx, -time.Minute); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if _, _, err := inst.App.Files.Open(ctx, orphan); err == nil {
		t.Fatal("orphan still there")
	}
	var list []map[string]any
	inst.Do("GET", "/cv/questionnaire/", nil, auth).JSON(t, &list)
	if r := apptest.Do(t, apptest.Client, "GET", list[0]["resume"].(string), nil); r.Status != 200 {
		t.Fatalf("referenced file deleted: %d", r.Status)
	}
}
