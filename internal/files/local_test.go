package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testSecret = []byte("test-secret-0123456789abcdef")

func newLocal(t *testing.T) (*Local, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "files")
	l, err := NewLocal(dir, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, dir
}

// failingReader yields n bytes and then fails, like a client that drops
// the connection half-way through an upload.
type failingReader struct {
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, f.err
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	for i := range p {
		p[i] = 'x'
	}
	f.n -= len(p)
	return len(p), nil
}

// allFiles lists every file and directory under dir, hidden ones included.
func allFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			if d.IsDir() {
				rel += "/"
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func readAll(t *testing.T, s Store, key string) ([]byte, Info) {
	t.Helper()
	rc, info, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, info
}

func listAll(t *testing.T, s Store, prefix string) []Info {
	t.Helper()
	var out []Info
	if err := s.List(context.Background(), prefix, func(i Info) error {
		out = append(out, i)
		return nil
	}); err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out
}

func keysOf(infos []Info) []string {
	ks := []string{}
	for _, i := range infos {
		ks = append(ks, i.Key)
	}
	return ks
}

func TestLocalRoundTrip(t *testing.T) {
	ctx := context.Background()
	l, dir := newLocal(t)
	body := []byte("%PDF-1.4 hello")
	key := "resumes/42/abc/my_cv.pdf"

	before := time.Now().Add(-time.Second)
	if err := l.Put(ctx, key, bytes.NewReader(body), int64(len(body)), ""); err != nil {
		t.Fatal(err)
	}
	got, info := readAll(t, l, key)
	if !bytes.Equal(got, body) {
		t.Fatalf("content %q", got)
	}
	if info.Key != key || info.Size != int64(len(body)) || info.ContentType != "application/pdf" || info.ModTime.Before(before) {
		t.Fatalf("info %+v", info)
	}

	// Permissions: nothing readable by group or others.
	st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(key)))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	for _, d := range []string{dir, filepath.Join(dir, "resumes"), filepath.Join(dir, "resumes", "42", "abc")} {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("%s mode %v, want 0700", d, st.Mode().Perm())
		}
	}

	// Unknown size.
	if err := l.Put(ctx, "resumes/42/def/b.docx", strings.NewReader("docx"), -1, ""); err != nil {
		t.Fatal(err)
	}
	if err := l.Put(ctx, "resumes/7/x/c.pdf", strings.NewReader("c"), 1, ""); err != nil {
		t.Fatal(err)
	}

	if got := keysOf(listAll(t, l, "")); strings.Join(got, ",") != "resumes/42/abc/my_cv.pdf,resumes/42/def/b.docx,resumes/7/x/c.pdf" {
		t.Fatalf("List all = %v", got)
	}
	infos := listAll(t, l, "resumes/42/")
	if len(infos) != 2 || infos[0].Size != int64(len(body)) || infos[0].ContentType != "application/pdf" ||
		infos[1].ContentType != "application/vnd.openxmlformats-officedocument.wordprocessingml.document" {
		t.Fatalf("List resumes/42/ = %+v", infos)
	}

	if err := l.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Open(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open after Delete: %v", err)
	}
	if err := l.Delete(ctx, key); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	// The upload's own directory went with it; the user's did not (not empty).
	if _, err := os.Stat(filepath.Join(dir, "resumes", "42", "abc")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty directory left behind: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "resumes", "42", "def")); err != nil {
		t.Errorf("sibling directory removed: %v", err)
	}
	for _, k := range []string{"resumes/42/def/b.docx", "resumes/7/x/c.pdf"} {
		if err := l.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if got := allFiles(t, dir); len(got) != 0 {
		t.Errorf("left in store: %v", got)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("root removed: %v", err)
	}
}

func TestLocalOpenMissing(t *testing.T) {
	ctx := context.Background()
	l, _ := newLocal(t)
	if err := l.Put(ctx, "a/b.pdf", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a/c.pdf", "nope/x", "a/b.pdf/c", "a"} {
		if _, _, err := l.Open(ctx, k); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", k, err)
		}
	}
}

func TestLocalContentType(t *testing.T) {
	ctx := context.Background()
	l, dir := newLocal(t)
	key := "gen/report"
	if err := l.Put(ctx, key, strings.NewReader("# hi"), 4, "text/markdown; charset=utf-8"); err != nil {
		t.Fatal(err)
	}
	if _, info := readAll(t, l, key); info.ContentType != "text/markdown; charset=utf-8" {
		t.Fatalf("content type %q", info.ContentType)
	}
	// The companion file is not an object.
	if got := keysOf(listAll(t, l, "")); len(got) != 1 || got[0] != key {
		t.Fatalf("List = %v", got)
	}
	// Overwriting with the extension's own type drops the companion.
	if err := l.Put(ctx, key, strings.NewReader("bin"), 3, ""); err != nil {
		t.Fatal(err)
	}
	if _, info := readAll(t, l, key); info.ContentType != "application/octet-stream" {
		t.Fatalf("content type after overwrite %q", info.ContentType)
	}
	if got := allFiles(t, dir); strings.Join(got, ",") != "gen/,gen/report" {
		t.Fatalf("files = %v", got)
	}
	// Delete removes the companion too.
	if err := l.Put(ctx, key, strings.NewReader("x"), 1, "image/png"); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if got := allFiles(t, dir); len(got) != 0 {
		t.Fatalf("files after delete = %v", got)
	}

	for _, bad := range []string{"text/plain\r\nX-Evil: 1", "not a type", "text/"} {
		if err := l.Put(ctx, "x.txt", strings.NewReader("x"), 1, bad); err == nil {
			t.Errorf("Put with content type %q succeeded", bad)
		}
	}
}

func TestLocalPutIsAtomic(t *testing.T) {
	ctx := context.Background()
	l, dir := newLocal(t)
	key := "resumes/1/r/cv.pdf"
	boom := errors.New("connection reset")

	cases := []struct {
		name string
		r    io.Reader
		size int64
	}{
		{"reader fails half-way, known size", &failingReader{n: 5000, err: boom}, 10000},
		{"reader fails half-way, unknown size", &failingReader{n: 5000, err: boom}, -1},
		{"reader shorter than size", strings.NewReader("short"), 10},
		{"reader longer than size", strings.NewReader("too long"), 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := l.Put(ctx, key, c.r, c.size, ""); err == nil {
				t.Fatal("Put succeeded")
			}
			if _, _, err := l.Open(ctx, key); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Open after failed Put: %v", err)
			}
			for _, f := range allFiles(t, dir) {
				if !strings.HasSuffix(f, "/") {
					t.Errorf("file left behind: %s", f)
				}
			}
		})
	}

	// A failed overwrite keeps the old content whole.
	if err := l.Put(ctx, key, strings.NewReader("old"), 3, ""); err != nil {
		t.Fatal(err)
	}
	if err := l.Put(ctx, key, &failingReader{n: 100, err: boom}, 200, "text/plain"); !errors.Is(err, boom) {
		t.Fatalf("Put = %v, want the reader's error", err)
	}
	if got, info := readAll(t, l, key); string(got) != "old" || info.ContentType != "application/pdf" {
		t.Fatalf("after failed overwrite: %q %q", got, info.ContentType)
	}

	// A cancelled request stops the copy.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Put(cctx, "resumes/1/s/x.pdf", strings.NewReader("x"), 1, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with cancelled context = %v", err)
	}
	if got := keysOf(listAll(t, l, "")); len(got) != 1 {
		t.Fatalf("objects = %v", got)
	}
}

func TestLocalRefusesBadKeys(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	l, err := NewLocal(filepath.Join(parent, "files"), testSecret)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	secret := filepath.Join(parent, "secret.txt")
	if err := os.WriteFile(secret, []byte("top secret"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, k := range []string{"../secret.txt", "a/../../secret.txt", secret, "/etc/passwd", "a\x00b", "", ".", "a/", `..\secret.txt`} {
		if err := l.Put(ctx, k, strings.NewReader("x"), 1, ""); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q) = %v", k, err)
		}
		if _, _, err := l.Open(ctx, k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Open(%q) = %v", k, err)
		}
		if err := l.Delete(ctx, k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v", k, err)
		}
		if _, err := l.URL(ctx, k, time.Minute, "http://x"); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("URL(%q) = %v", k, err)
		}
	}
	for _, p := range []string{"../", "/etc", "a/../", "a//"} {
		if err := l.List(ctx, p, func(Info) error { return nil }); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("List(%q) = %v", p, err)
		}
	}
	if b, err := os.ReadFile(secret); err != nil || string(b) != "top secret" {
		t.Fatalf("outside file touched: %q %v", b, err)
	}

	// A symlink planted inside the tree still cannot lead outside it.
	if err := os.Symlink(parent, filepath.Join(parent, "files", "escape")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Open(ctx, "escape/secret.txt"); err == nil {
		t.Fatal("Open through a symlink escaped the root")
	}
	if err := l.Put(ctx, "escape/new.txt", strings.NewReader("x"), 1, ""); err == nil {
		t.Fatal("Put through a symlink escaped the root")
	}
	if _, err := os.Stat(filepath.Join(parent, "new.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file written outside the root: %v", err)
	}
	if got := keysOf(listAll(t, l, "")); len(got) != 0 {
		t.Fatalf("List followed the symlink: %v", got)
	}
}

func TestLocalList(t *testing.T) {
	ctx := context.Background()
	l, dir := newLocal(t)
	for _, k := range []string{"resumes/4/a/x.pdf", "resumes/42/b/y.pdf", "resumes/5/c/z.pdf", "generated/1.pdf", "top.pdf"} {
		if err := l.Put(ctx, k, strings.NewReader(k), int64(len(k)), ""); err != nil {
			t.Fatal(err)
		}
	}
	// Stray files that are not valid keys are not reported.
	if err := os.WriteFile(filepath.Join(dir, "resumes", "bad name.pdf"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string]string{
		"":             "generated/1.pdf,resumes/4/a/x.pdf,resumes/42/b/y.pdf,resumes/5/c/z.pdf,top.pdf",
		"resumes/":     "resumes/4/a/x.pdf,resumes/42/b/y.pdf,resumes/5/c/z.pdf",
		"resumes/4":    "resumes/4/a/x.pdf,resumes/42/b/y.pdf",
		"resumes/4/":   "resumes/4/a/x.pdf",
		"resumes/42/b": "resumes/42/b/y.pdf",
		"t":            "top.pdf",
		"nothing/":     "",
		"resumes/9/":   "",
	} {
		if got := strings.Join(keysOf(listAll(t, l, prefix)), ","); got != want {
			t.Errorf("List(%q) = %s, want %s", prefix, got, want)
		}
	}

	stop := errors.New("stop")
	n := 0
	if err := l.List(ctx, "", func(Info) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("List with failing fn = %v after %d calls", err, n)
	}

	// Deleting from inside the callback (what cleanup does) works, pruning included.
	if err := l.List(ctx, "resumes/", func(i Info) error { return l.Delete(ctx, i.Key) }); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(keysOf(listAll(t, l, "")), ","); got != "generated/1.pdf,top.pdf" {
		t.Fatalf("after deleting resumes/: %s", got)
	}
}

func TestLocalURL(t *testing.T) {
	ctx := context.Background()
	l, _ := newLocal(t)
	now := time.Unix(1_800_000_000, 0)
	l.now = func() time.Time { return now }
	key := "resumes/3/r/my_cv.pdf"

	for _, base := range []string{"https://api.example.com", "https://api.example.com/"} {
		raw, err := l.URL(ctx, key, 15*time.Minute, base)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme != "https" || u.Host != "api.example.com" || u.Path != "/files/"+key {
			t.Fatalf("URL %s", raw)
		}
		q := u.Query()
		if q.Get("expires") != strconv.FormatInt(now.Add(15*time.Minute).Unix(), 10) {
			t.Fatalf("expires %q", q.Get("expires"))
		}
		if err := l.Signer().Verify(key, q.Get("expires"), q.Get("sig"), now.Add(14*time.Minute)); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if err := (Signer{Secret: testSecret}).Verify(key, q.Get("expires"), q.Get("sig"), now.Add(16*time.Minute)); !errors.Is(err, ErrExpired) {
			t.Fatalf("Verify after expiry: %v", err)
		}
	}
	// Behind a path prefix.
	if raw, err := l.URL(ctx, key, time.Minute, "https://example.com/api"); err != nil || !strings.HasPrefix(raw, "https://example.com/api/files/"+key+"?") {
		t.Fatalf("URL with path prefix = %s, %v", raw, err)
	}
	for _, base := range []string{"", "/relative", "example.com", "http://x?y=1"} {
		if _, err := l.URL(ctx, key, time.Minute, base); err == nil {
			t.Errorf("URL with base %q succeeded", base)
		}
	}
	for _, ttl := range []time.Duration{0, -time.Minute, time.Millisecond, MaxURLTTL + time.Second} {
		if _, err := l.URL(ctx, key, ttl, "http://x"); err == nil {
			t.Errorf("URL with ttl %v succeeded", ttl)
		}
	}
}
