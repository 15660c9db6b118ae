package files

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenLocal(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	st, err := Open(Config{DataDir: data, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	l := st.(*Local)
	defer l.Close()
	if l.Dir() != filepath.Join(data, "files") {
		t.Fatalf("root %s", l.Dir())
	}
	if err := l.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, "a/b.pdf", strings.NewReader("x"), 1, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "files", "a", "b.pdf")); err != nil {
		t.Fatal(err)
	}

	other := t.TempDir()
	st, err = Open(Config{StorageURL: "file://" + other + "/blobs", DataDir: data, Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer st.(*Local).Close()
	if got := st.(*Local).Dir(); got != filepath.Join(other, "blobs") {
		t.Fatalf("file:// root %s", got)
	}
}

func TestOpenErrors(t *testing.T) {
	creds := Config{S3AccessKey: "a", S3SecretKey: "b", Secret: testSecret, DataDir: t.TempDir()}
	cases := []struct {
		name string
		cfg  Config
		want string // the setting the message must name
	}{
		{"no data dir", Config{Secret: testSecret}, "DATA_DIR"},
		{"no secret", Config{DataDir: t.TempDir()}, "SECRET_KEY"},
		{"unknown scheme", Config{StorageURL: "gs://bucket", Secret: testSecret}, "STORAGE_URL"},
		{"file with host", Config{StorageURL: "file://host/x", Secret: testSecret}, "STORAGE_URL"},
		{"file without path", Config{StorageURL: "file://", Secret: testSecret}, "STORAGE_URL"},
		{"s3 without bucket", withURL(creds, "s3://?endpoint=http://127.0.0.1:9000"), "STORAGE_URL"},
		{"s3 unknown parameter", withURL(creds, "s3://b?endpiont=http://127.0.0.1:9000"), "STORAGE_URL"},
		{"s3 bad path_style", withURL(creds, "s3://b?path_style=maybe"), "STORAGE_URL"},
		{"s3 bad endpoint scheme", withURL(creds, "s3://b?endpoint=ftp://127.0.0.1"), "STORAGE_URL"},
		{"s3 endpoint with path", withURL(creds, "s3://b?endpoint=http://127.0.0.1:9000/x"), "STORAGE_URL"},
		{"s3 bad prefix", withURL(creds, "s3://b/../x"), "STORAGE_URL"},
		{"s3 without credentials", Config{StorageURL: "s3://b?endpoint=http://127.0.0.1:9000"}, "AWS_ACCESS_KEY_ID"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, err := Open(c.cfg)
			if err == nil {
				t.Fatalf("Open succeeded: %T", st)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not name %s", err, c.want)
			}
		})
	}
}

func withURL(c Config, u string) Config {
	c.StorageURL = u
	return c
}

func TestParseS3URL(t *testing.T) {
	st, err := Open(Config{StorageURL: "s3://my-bucket/pre/fix?endpoint=https://s3.eu-west-1.amazonaws.com&region=eu-west-1&path_style=false", S3AccessKey: "a", S3SecretKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*S3)
	if s.bucket != "my-bucket" || s.prefix != "pre/fix/" {
		t.Fatalf("parsed %+v", s)
	}
	if ep := s.c.EndpointURL(); ep.Scheme != "https" || ep.Host != "s3.eu-west-1.amazonaws.com" {
		t.Fatalf("endpoint %v", ep)
	}
	st, err = Open(Config{StorageURL: "s3://b?endpoint=minio.internal:9000", S3AccessKey: "a", S3SecretKey: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if ep := st.(*S3).c.EndpointURL(); ep.Scheme != "https" || ep.Host != "minio.internal:9000" {
		t.Fatalf("bare host endpoint %v", ep)
	}
}
