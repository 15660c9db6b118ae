package files

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	testAccess    = "AKIATESTTESTTEST"
	testSecretKey = "s3cr3t/s3cr3t/s3cr3t"
)

func newS3(t *testing.T, prefix string) (*S3, *fakeS3) {
	t.Helper()
	fake, srv := newFakeS3(t, "cvs", testAccess)
	u := "s3://cvs" + prefix + "?endpoint=" + url.QueryEscape(srv.URL) + "&region=us-east-1&path_style=true"
	st, err := Open(Config{StorageURL: u, S3AccessKey: testAccess, S3SecretKey: testSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := st.(*S3)
	if !ok {
		t.Fatalf("Open(%q) = %T", u, st)
	}
	return s, fake
}

func TestS3RoundTrip(t *testing.T) {
	ctx := context.Background()
	s, fake := newS3(t, "")
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}

	body := bytes.Repeat([]byte("%PDF-1.7 "), 20000) // 180 kB: several chunks when streamed
	key := "resumes/42/abc/my_cv.pdf"
	if err := s.Put(ctx, key, bytes.NewReader(body), int64(len(body)), ""); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	chunked := fake.chunked
	fake.mu.Unlock()
	if chunked == 0 {
		t.Error("the client did not stream the upload; the fake's aws-chunked decoding went untested")
	}
	got, info := readAll(t, s, key)
	if !bytes.Equal(got, body) {
		t.Fatalf("content differs: %d bytes", len(got))
	}
	if info.Key != key || info.Size != int64(len(body)) || info.ContentType != "application/pdf" || info.ModTime.IsZero() {
		t.Fatalf("info %+v", info)
	}

	if err := s.Put(ctx, "gen/stream.pdf", io.LimitReader(bytes.NewReader(body), int64(len(body))), int64(len(body)), ""); err != nil {
		t.Fatalf("Put from a stream: %v", err)
	}
	if got, _ := readAll(t, s, "gen/stream.pdf"); !bytes.Equal(got, body) {
		t.Fatalf("streamed content differs: %d bytes", len(got))
	}
	if err := s.Delete(ctx, "gen/stream.pdf"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "gen/report", strings.NewReader("# hi"), -1, "text/markdown; charset=utf-8"); err != nil {
		t.Fatal(err)
	}
	if got, info := readAll(t, s, "gen/report"); string(got) != "# hi" || info.ContentType != "text/markdown; charset=utf-8" {
		t.Fatalf("unknown-size put: %q %+v", got, info)
	}

	for _, k := range []string{"resumes/4/a/x.pdf", "resumes/42/b/y.pdf", "resumes/5/c/z.pdf", "top.pdf"} {
		if err := s.Put(ctx, k, strings.NewReader(k), int64(len(k)), ""); err != nil {
			t.Fatal(err)
		}
	}
	// The fake pages by two, so these need continuation tokens.
	for prefix, want := range map[string]string{
		"":           "gen/report,resumes/4/a/x.pdf,resumes/42/abc/my_cv.pdf,resumes/42/b/y.pdf,resumes/5/c/z.pdf,top.pdf",
		"resumes/4":  "resumes/4/a/x.pdf,resumes/42/abc/my_cv.pdf,resumes/42/b/y.pdf",
		"resumes/4/": "resumes/4/a/x.pdf",
		"nothing/":   "",
	} {
		if got := strings.Join(keysOf(listAll(t, s, prefix)), ","); got != want {
			t.Errorf("List(%q) = %s, want %s", prefix, got, want)
		}
	}
	infos := listAll(t, s, "resumes/42/abc/")
	if len(infos) != 1 || infos[0].Size != int64(len(body)) || infos[0].ContentType != "application/pdf" || infos[0].ModTime.IsZero() {
		t.Fatalf("List info %+v", infos)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.List(ctx, "", func(Info) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("List with failing fn = %v after %d calls", err, n)
	}
	if err := s.List(ctx, "resumes/", func(i Info) error { return s.Delete(ctx, i.Key) }); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fake.keys(), ","); got != "gen/report,top.pdf" {
		t.Fatalf("after deleting resumes/: %s", got)
	}

	if _, _, err := s.Open(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open after Delete: %v", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if err := s.Put(ctx, "../x", strings.NewReader("x"), 1, ""); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Put(../x) = %v", err)
	}
}

func TestS3PutIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, fake := newS3(t, "")
	key := "resumes/1/r/cv.pdf"
	boom := errors.New("connection reset")
	cases := []struct {
		name string
		r    io.Reader
		size int64
	}{
		{"reader fails half-way, known size", &failingReader{n: 100_000, err: boom}, 200_000},
		{"reader fails half-way, unknown size", &failingReader{n: 5000, err: boom}, -1},
		{"seekable reader shorter than size", strings.NewReader("short"), 10},
		{"seekable reader longer than size", strings.NewReader("too long"), 3},
		{"stream shorter than size", io.LimitReader(strings.NewReader("short"), 5), 10},
		{"stream longer than size", io.LimitReader(strings.NewReader("too long"), 8), 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.Put(ctx, key, c.r, c.size, ""); err == nil {
				t.Fatal("Put succeeded")
			}
			if ks := fake.keys(); len(ks) != 0 {
				t.Fatalf("objects after failed Put: %v", ks)
			}
		})
	}
}

func TestS3Prefix(t *testing.T) {
	ctx := context.Background()
	s, fake := newS3(t, "/tenant-a")
	if err := s.Put(ctx, "resumes/1/x.pdf", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fake.keys(), ","); got != "tenant-a/resumes/1/x.pdf" {
		t.Fatalf("stored as %s", got)
	}
	if got := strings.Join(keysOf(listAll(t, s, "resumes/")), ","); got != "resumes/1/x.pdf" {
		t.Fatalf("List = %s", got)
	}
	if b, _ := readAll(t, s, "resumes/1/x.pdf"); string(b) != "x" {
		t.Fatalf("content %q", b)
	}
}

func TestS3PresignedURL(t *testing.T) {
	ctx := context.Background()
	s, fake := newS3(t, "")
	key := "resumes/9/r/my_cv.pdf"
	if err := s.Put(ctx, key, strings.NewReader("%PDF-1.4"), 8, ""); err != nil {
		t.Fatal(err)
	}
	raw, err := s.URL(ctx, key, 5*time.Minute, "https://ignored.example.com")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("X-Amz-Signature") == "" || q.Get("X-Amz-Expires") != "300" || q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		t.Fatalf("not a presigned URL: %s", raw)
	}
	if u.Path != "/cvs/"+key || strings.Contains(raw, "ignored.example.com") {
		t.Fatalf("URL %s", raw)
	}

	fake.gets = 0
	resp, err := http.Get(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "%PDF-1.4" {
		t.Fatalf("GET presigned: %d %q", resp.StatusCode, b)
	}
	if got := resp.Header.Get("Content-Disposition"); got != `inline; filename="my_cv.pdf"` {
		t.Errorf("Content-Disposition %q", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/pdf" {
		t.Errorf("Content-Type %q", got)
	}
	if fake.gets != 1 {
		t.Errorf("fake saw %d GETs", fake.gets)
	}

	for _, ttl := range []time.Duration{0, MaxURLTTL + time.Second} {
		if _, err := s.URL(ctx, key, ttl, ""); err == nil {
			t.Errorf("URL with ttl %v succeeded", ttl)
		}
	}
}

func TestS3Errors(t *testing.T) {
	ctx := context.Background()
	_, srv := newFakeS3(t, "cvs", testAccess)
	ep := url.QueryEscape(srv.URL)

	missing, err := Open(Config{StorageURL: "s3://other?endpoint=" + ep + "&region=us-east-1&path_style=true", S3AccessKey: testAccess, S3SecretKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.(*S3).Check(ctx); err == nil {
		t.Fatal("Check of a missing bucket succeeded")
	}
	// (Open cannot tell a missing bucket from a missing key: the client
	// stats with HEAD, whose 404 has no body. Check at start-up covers it.)
	if err := missing.Put(ctx, "a.pdf", strings.NewReader("x"), 1, ""); err == nil {
		t.Fatal("Put into a missing bucket succeeded")
	}

	wrong, err := Open(Config{StorageURL: "s3://cvs?endpoint=" + ep + "&region=us-east-1&path_style=true", S3AccessKey: "WRONG", S3SecretKey: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.Put(ctx, "a.pdf", strings.NewReader("x"), 1, ""); err == nil {
		t.Fatal("Put with wrong credentials succeeded")
	}
	if err := wrong.List(ctx, "", func(Info) error { return nil }); err == nil {
		t.Fatal("List with wrong credentials succeeded")
	}
}
