package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestManagementCommandsBinary builds the real binary and runs the commands
// the way an operator (or cron) does: stdin not a terminal, embedded SQLite
// database in DATA_DIR.
func TestManagementCommandsBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "cvimprover")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "DATA_DIR=" + data, "LOG_LEVEL=warn", "AI_PROVIDER=offline"}

	runBin := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		cmd.Dir = dir // no stray .env
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("%v hung", args)
		}
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v → %d\nstdout:\n%s\nstderr:\n%s", args, code, out.String(), errb.String())
		return code, out.String(), errb.String()
	}

	code, _, stderr := runBin("", "cleanup-old-data", "--days", "0")
	if code != 2 || !strings.Contains(stderr, "Days must be a positive integer") {
		t.Fatalf("--days 0: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("a usage error opened the data directory (%v)", err)
	}

	code, out, _ := runBin("", "create-test-data", "--count", "2")
	if code != 0 || !strings.Contains(out, "Created 2 test records") {
		t.Fatalf("create-test-data: exit %d", code)
	}

	// Without --force and without a terminal: no waiting, nothing deleted.
	code, out, _ = runBin("y\n", "cleanup-old-data", "--days", "90")
	if code != 3 || !strings.Contains(out, "Skipped AI response cleanup.") {
		t.Fatalf("unconfirmed cleanup: exit %d", code)
	}

	code, out, _ = runBin("", "cleanup-old-data", "--days", "90", "--force")
	if code != 0 || !strings.Contains(out, "Deleted 2 AI response(s)") || !strings.Contains(out, "Cleanup process completed successfully!") {
		t.Fatalf("cleanup: exit %d", code)
	}
	code, out, _ = runBin("", "cleanup-old-data", "--days", "90", "--force")
	if code != 0 || !strings.Contains(out, "No old AI responses found.") {
		t.Fatalf("second cleanup: exit %d", code)
	}

	code, _, stderr = runBin("", "manage-rate-limits", "list-blocked")
	if code != 2 || !strings.Contains(stderr, "set REDIS_URL") {
		t.Fatalf("manage-rate-limits without Redis: exit %d", code)
	}
	code, _, _ = runBin("", "create-superuser", "--username", "boss")
	if code != 2 {
		t.Fatalf("create-superuser without a password off a terminal: exit %d, want 2", code)
	}
}
