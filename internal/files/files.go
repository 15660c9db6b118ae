// Package files stores uploaded resumes and generated PDFs in a blob store:
// a directory on local disk (the embedded default) or an S3-compatible
// bucket. Nothing here is ever served publicly: callers hand out expiring
// URLs from Store.URL (HMAC-signed for the local store, presigned for S3),
// which fixes the original's world-readable /media/ (REFERENCE §14 item 28).
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Store is a flat key → blob store. Keys are validated by ValidateKey in
// every method, so a key that works on one backend works on the other.
type Store interface {
	// Put stores r under key, replacing any existing object. size is the
	// exact number of bytes r yields, or -1 if unknown; a reader that errors
	// or yields a different length leaves no object behind. An empty
	// contentType is derived from the key's extension.
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	// Open returns the object's content and metadata (ContentType as it was
	// given to Put). A missing object is ErrNotFound.
	Open(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Delete removes the object; deleting a missing key is not an error
	// (S3 cannot tell the difference without an extra request, and cleanup
	// jobs want idempotency anyway).
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key starts with prefix (a plain
	// string prefix, as in S3). Order is not specified. ContentType is
	// derived from the key's extension here (S3 listings do not carry it).
	// An error from fn stops the listing and is returned. fn may Delete the
	// object it is given.
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// URL returns an absolute URL that lets whoever holds it GET the object
	// until ttl has passed. baseURL (scheme://host[/path] of this service)
	// is used by the local store only; S3 URLs point at the bucket.
	URL(ctx context.Context, key string, ttl time.Duration, baseURL string) (string, error)
}

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ContentType string
	ModTime     time.Time
}

var (
	// ErrNotFound: no object under that key.
	ErrNotFound = errors.New("files: not found")
	// ErrInvalidKey: the key breaks the rules of ValidateKey.
	ErrInvalidKey = errors.New("files: invalid key")
	// ErrExpired: a signed URL whose signature is right but whose time is up.
	ErrExpired = errors.New("files: signed URL expired")
	// ErrBadSignature: a signed URL that was not made by us for this key and expiry.
	ErrBadSignature = errors.New("files: bad signature")
)

// MaxURLTTL is the longest lifetime URL accepts; it is S3's limit for
// presigned URLs, applied to the local store too so both behave alike.
const MaxURLTTL = 7 * 24 * time.Hour

// Config selects and configures a Store. The caller reads the environment
// (STORAGE_URL, DATA_DIR, SECRET_KEY, AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY); this package never does.
type Config struct {
	// StorageURL: "" → local store under DataDir/files; "file:///path" →
	// local store under that path; "s3://bucket[/prefix]?endpoint=…&region=…&path_style=…".
	StorageURL string
	DataDir    string
	// Secret signs local file URLs (SECRET_KEY).
	Secret      []byte
	S3AccessKey string
	S3SecretKey string
}

// Open builds the Store that cfg describes. Errors name the setting at fault
// so that start-up can print them as they are.
func Open(cfg Config) (Store, error) {
	if cfg.StorageURL == "" {
		if cfg.DataDir == "" {
			return nil, errors.New("DATA_DIR: must not be empty")
		}
		return openLocalChecked(filepath.Join(cfg.DataDir, "files"), cfg.Secret)
	}
	u, err := url.Parse(cfg.StorageURL)
	if err != nil {
		return nil, fmt.Errorf("STORAGE_URL: %v", err)
	}
	switch u.Scheme {
	case "file":
		p := u.Path
		if u.Opaque != "" {
			p = u.Opaque // file:relative/path
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("STORAGE_URL: file URL must not name a host (got %q)", u.Host)
		}
		if p == "" {
			return nil, errors.New("STORAGE_URL: file URL has no path")
		}
		if u.RawQuery != "" {
			return nil, errors.New("STORAGE_URL: file URL takes no parameters")
		}
		return openLocalChecked(p, cfg.Secret)
	case "s3":
		sc, err := parseS3URL(u)
		if err != nil {
			return nil, err
		}
		if cfg.S3AccessKey == "" || cfg.S3SecretKey == "" {
			return nil, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: required when STORAGE_URL is s3://")
		}
		sc.AccessKey, sc.SecretKey = cfg.S3AccessKey, cfg.S3SecretKey
		return NewS3(sc)
	default:
		return nil, fmt.Errorf("STORAGE_URL: unsupported scheme %q (want s3:// or file://, or leave empty)", u.Scheme)
	}
}

func openLocalChecked(root string, secret []byte) (Store, error) {
	if len(secret) == 0 {
		return nil, errors.New("SECRET_KEY: required to sign file URLs")
	}
	l, err := NewLocal(root, secret)
	if err != nil {
		return nil, fmt.Errorf("STORAGE_URL/DATA_DIR: %w", err)
	}
	return l, nil
}

func parseS3URL(u *url.URL) (S3Config, error) {
	var c S3Config
	c.Bucket = u.Host
	if c.Bucket == "" {
		return c, errors.New("STORAGE_URL: s3 URL has no bucket (want s3://bucket?endpoint=…)")
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if err := ValidateKey(p); err != nil {
			return c, fmt.Errorf("STORAGE_URL: bad key prefix %q in s3 URL", p)
		}
		c.Prefix = p
	}
	q := u.Query()
	for name := range q {
		switch name {
		case "endpoint", "region", "path_style":
		default:
			// A typo here would otherwise silently fall back to a default.
			return c, fmt.Errorf("STORAGE_URL: unknown s3 parameter %q (known: endpoint, region, path_style)", name)
		}
	}
	c.Endpoint = q.Get("endpoint")
	c.Region = q.Get("region")
	if v := q.Get("path_style"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("STORAGE_URL: path_style must be true or false, got %q", v)
		}
		c.PathStyle = &b
	}
	return c, nil
}

// extTypes is fixed rather than taken from mime.TypeByExtension, whose
// answers depend on the host's /etc/mime.types.
var extTypes = map[string]string{
	".pdf":  "application/pdf",
	".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".doc":  "application/msword",
	".txt":  "text/plain; charset=utf-8",
	".md":   "text/markdown; charset=utf-8",
	".html": "text/html; charset=utf-8",
	".json": "application/json",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
}

// ContentTypeFor derives a content type from the key's extension,
// application/octet-stream when unknown.
func ContentTypeFor(key string) string {
	if t, ok := extTypes[strings.ToLower(path.Ext(key))]; ok {
		return t
	}
	return "application/octet-stream"
}

// effectiveContentType checks a caller-given type because the HTTP layer
// will send it back as a header verbatim.
func effectiveContentType(key, ct string) (string, error) {
	if ct == "" {
		return ContentTypeFor(key), nil
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil || strings.ContainsAny(ct, "\r\n") {
		return "", fmt.Errorf("files: invalid content type %q", ct)
	}
	return ct, nil
}

func checkTTL(ttl time.Duration) error {
	if ttl < time.Second || ttl > MaxURLTTL {
		return fmt.Errorf("files: URL lifetime %v out of range [1s, %v]", ttl, MaxURLTTL)
	}
	return nil
}
