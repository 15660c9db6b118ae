package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config describes an S3-compatible bucket (AWS S3, MinIO, R2, …).
type S3Config struct {
	Bucket string
	// Prefix, if set, is put before every key ("cvs" → "cvs/<key>") so that
	// the service can share a bucket.
	Prefix string
	// Endpoint is "http://host:port" or "https://host"; a bare host means
	// https. Empty means AWS (s3.amazonaws.com).
	Endpoint string
	// Region; empty lets the client ask the bucket for it.
	Region string
	// PathStyle forces path-style (true) or virtual-host (false) bucket
	// addressing; nil lets the client choose (path style for IPs and
	// non-AWS hosts).
	PathStyle *bool
	AccessKey string
	SecretKey string
}

// S3 is a Store in an S3-compatible bucket.
type S3 struct {
	c      *minio.Client
	bucket string
	prefix string // "" or ends in '/'
}

var _ Store = (*S3)(nil)

// NewS3 makes the client; it does not contact the server (see Check).
func NewS3(cfg S3Config) (*S3, error) {
	host, secure, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle != nil {
		lookup = minio.BucketLookupDNS
		if *cfg.PathStyle {
			lookup = minio.BucketLookupPath
		}
	}
	c, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("STORAGE_URL: %w", err)
	}
	s := &S3{c: c, bucket: cfg.Bucket}
	if p := strings.Trim(cfg.Prefix, "/"); p != "" {
		if err := ValidateKey(p); err != nil {
			return nil, fmt.Errorf("STORAGE_URL: bad prefix %q", cfg.Prefix)
		}
		s.prefix = p + "/"
	}
	return s, nil
}

func parseEndpoint(ep string) (host string, secure bool, err error) {
	if ep == "" {
		return "s3.amazonaws.com", true, nil
	}
	if !strings.Contains(ep, "://") {
		return ep, true, nil
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", false, fmt.Errorf("STORAGE_URL: endpoint: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", false, fmt.Errorf("STORAGE_URL: endpoint scheme must be http or https, got %q", u.Scheme)
	}
	if u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return "", false, fmt.Errorf("STORAGE_URL: endpoint must be scheme://host[:port], got %q", ep)
	}
	return u.Host, u.Scheme == "https", nil
}

// Check asks the server whether the bucket exists, so that start-up can
// fail fast on a wrong endpoint, credentials or bucket.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("files: s3 bucket %q: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("files: s3 bucket %q does not exist", s.bucket)
	}
	return nil
}

func (s *S3) object(key string) string { return s.prefix + key }

func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	ct, err := effectiveContentType(key, contentType)
	if err != nil {
		return err
	}
	if size < 0 {
		// Without a length the client falls back to multipart uploads with
		// a very large part buffer; a temp file gives it the length instead.
		f, n, err := spool(ctx, r)
		if err != nil {
			return fmt.Errorf("files: put %s: %w", key, err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		r, size = f, n
	}
	body, err := sizedBody(ctx, r, size)
	if err != nil {
		return fmt.Errorf("files: put %s: %w", key, err)
	}
	// A single PUT is all or nothing on the server: a reader failing half-way
	// aborts the request and no object appears.
	_, err = s.c.PutObject(ctx, s.bucket, s.object(key), body, size, minio.PutObjectOptions{ContentType: ct})
	if err != nil {
		return fmt.Errorf("files: put %s: %w", key, err)
	}
	return nil
}

func spool(ctx context.Context, r io.Reader) (*os.File, int64, error) {
	f, err := os.CreateTemp("", "cvimprover-upload-*")
	if err != nil {
		return nil, 0, err
	}
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, err
	}
	return f, n, nil
}

// sizedBody makes sure the upload is exactly size bytes. A seekable reader
// (an uploaded multipart file, a temp file) is measured and passed through
// as it is, which lets the client retry the request; any other reader is
// checked as it is read.
func sizedBody(ctx context.Context, r io.Reader, size int64) (io.Reader, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return &exactReader{r: ctxReader{ctx, r}, left: size}, nil
	}
	cur, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	end, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	if _, err := rs.Seek(cur, io.SeekStart); err != nil {
		return nil, err
	}
	if end-cur != size {
		return nil, fmt.Errorf("reader has %d bytes, want %d", end-cur, size)
	}
	return rs, nil
}

// exactReader fails unless r yields exactly left bytes: the S3 client
// stops reading at the declared size, so a longer reader would otherwise
// be truncated silently.
type exactReader struct {
	r    io.Reader
	left int64
}

var errTooLong = errors.New("reader is longer than the declared size")

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, e.probe()
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case err == io.EOF && e.left > 0:
		return n, io.ErrUnexpectedEOF
	case err != nil && err != io.EOF:
		return n, err
	case e.left == 0:
		return n, e.probe()
	}
	return n, nil
}

func (e *exactReader) probe() error {
	var b [1]byte
	n, err := io.ReadFull(e.r, b[:])
	if n > 0 {
		return errTooLong
	}
	if err == io.EOF {
		return io.EOF
	}
	return err
}

func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.object(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s3Err(key, err)
	}
	// GetObject is lazy; Stat sends the GET and reads the headers.
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, Info{}, s3Err(key, err)
	}
	return obj, Info{Key: key, Size: st.Size, ContentType: st.ContentType, ModTime: st.LastModified}, nil
}

func s3Err(key string, err error) error {
	if r := minio.ToErrorResponse(err); r.Code == minio.NoSuchKey || (r.StatusCode == 404 && r.Code != minio.NoSuchBucket) {
		return ErrNotFound
	}
	return fmt.Errorf("files: %s: %w", key, err)
}

func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, s.object(key), minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(s3Err(key, err), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	return nil
}

func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.object(prefix), Recursive: true})
	// Stopping early: cancel, then drain so the client's goroutine ends.
	stop := func() {
		cancel()
		for range ch {
		}
	}
	for o := range ch {
		if o.Err != nil {
			stop()
			return fmt.Errorf("files: list %q: %w", prefix, o.Err)
		}
		key := strings.TrimPrefix(o.Key, s.prefix)
		if ValidateKey(key) != nil {
			continue // written by someone else; not addressable through Store
		}
		if err := fn(Info{Key: key, Size: o.Size, ContentType: ContentTypeFor(key), ModTime: o.LastModified}); err != nil {
			stop()
			return err
		}
	}
	return ctx.Err()
}

// URL returns a presigned GET URL; baseURL is not used. The object is
// served with Content-Disposition: inline and its file name, as the local
// store's handler does.
func (s *S3) URL(ctx context.Context, key string, ttl time.Duration, _ string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if err := checkTTL(ttl); err != nil {
		return "", err
	}
	params := url.Values{}
	params.Set("response-content-disposition", ContentDisposition(key))
	u, err := s.c.PresignedGetObject(ctx, s.bucket, s.object(key), ttl, params)
	if err != nil {
		return "", fmt.Errorf("files: presign %s: %w", key, err)
	}
	return u.String(), nil
}

// ContentDisposition is the header value for serving key inline. Keys hold
// no quotes or control characters, so the name needs no escaping.
func ContentDisposition(key string) string {
	return `inline; filename="` + baseName(key) + `"`
}
