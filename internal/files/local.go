package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"
	"syscall"
	"time"
)

// Local is a Store in a directory. Every access goes through an os.Root, so
// even a key that slipped past ValidateKey, or a symlink planted in the
// tree, cannot reach outside it.
//
// An object is one file at its key (mode 0600, directories 0700). When the
// content type given to Put differs from what the extension implies, it is
// kept in a companion file ".<name>.meta" beside the object; names starting
// with '.' are never keys, so companions and temp files never collide with
// objects and List skips them.
type Local struct {
	root   *os.Root
	signer Signer
	now    func() time.Time
}

var _ Store = (*Local)(nil)

// NewLocal opens (creating it if needed) a local store rooted at dir whose
// URLs are signed with secret.
func NewLocal(dir string, secret []byte) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("files: create %s: %w", dir, err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("files: open %s: %w", dir, err)
	}
	return &Local{root: r, signer: Signer{Secret: secret}, now: time.Now}, nil
}

// Close releases the directory handle.
func (l *Local) Close() error { return l.root.Close() }

// Check reports whether the root directory is still there, for health checks.
func (l *Local) Check(ctx context.Context) error {
	_, err := l.root.Stat(".")
	return err
}

// Dir is the store's root directory.
func (l *Local) Dir() string { return l.root.Name() }

// Signer verifies the URLs this store hands out; the HTTP layer serving
// /files/<key> uses it.
func (l *Local) Signer() Signer { return l.signer }

type meta struct {
	ContentType string `json:"content_type"`
}

func metaName(key string) string {
	dir, name := path.Split(key)
	return dir + "." + name + ".meta"
}

func parentDir(key string) string {
	if d := path.Dir(key); d != "" {
		return d
	}
	return "."
}

func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) (err error) {
	if err := ValidateKey(key); err != nil {
		return err
	}
	ct, err := effectiveContentType(key, contentType)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := parentDir(key)

	f, tmp, err := l.createTemp(dir)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			l.root.Remove(tmp)
		}
	}()
	src := ctxReader{ctx, r}
	if size >= 0 {
		// One byte past size tells a longer reader from an exact one.
		n, cerr := io.Copy(f, io.LimitReader(src, size+1))
		if cerr != nil {
			return fmt.Errorf("files: put %s: %w", key, cerr)
		}
		if n != size {
			return fmt.Errorf("files: put %s: got %d bytes, want %d", key, n, size)
		}
	} else if _, cerr := io.Copy(f, src); cerr != nil {
		return fmt.Errorf("files: put %s: %w", key, cerr)
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}

	// The companion goes in before the object so that a crash in between
	// leaves at worst an orphan companion, never an object with a wrong type.
	if ct != ContentTypeFor(key) {
		b, _ := json.Marshal(meta{ContentType: ct})
		if err = l.writeSmall(dir, metaName(key), b); err != nil {
			return err
		}
	} else if rerr := l.root.Remove(metaName(key)); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		return rerr
	}
	if err = l.root.Rename(tmp, key); err != nil {
		return fmt.Errorf("files: put %s: %w", key, err)
	}
	return l.syncDir(dir)
}

// createTemp makes the directory and an exclusive temp file in it. Delete
// prunes empty directories, so a concurrent Delete can remove the directory
// between MkdirAll and the create; trying again is enough, as once the temp
// file exists the directory is not empty.
func (l *Local) createTemp(dir string) (*os.File, string, error) {
	var err error
	for range 5 {
		if err = l.root.MkdirAll(dir, 0o700); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("files: mkdir %s: %w", dir, err)
		}
		name := path.Join(dir, ".tmp-"+RandomSegment())
		var f *os.File
		f, err = l.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return nil, "", fmt.Errorf("files: create temp in %s: %w", dir, err)
}

func (l *Local) writeSmall(dir, name string, b []byte) (err error) {
	f, tmp, err := l.createTemp(dir)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			l.root.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return l.root.Rename(tmp, name)
}

// syncDir makes the renames durable.
func (l *Local) syncDir(dir string) error {
	d, err := l.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

func (l *Local) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	f, err := l.root.Open(key)
	if err != nil {
		return nil, Info{}, notFound(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, Info{}, ErrNotFound
	}
	return f, Info{Key: key, Size: st.Size(), ContentType: l.contentType(key), ModTime: st.ModTime()}, nil
}

func (l *Local) contentType(key string) string {
	if b, err := l.root.ReadFile(metaName(key)); err == nil {
		var m meta
		if json.Unmarshal(b, &m) == nil && m.ContentType != "" {
			return m.ContentType
		}
	}
	return ContentTypeFor(key)
}

func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return ErrNotFound
	}
	return err
}

func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := l.root.Remove(key); err != nil && notFound(err) != ErrNotFound {
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	if err := l.root.Remove(metaName(key)); err != nil && notFound(err) != ErrNotFound {
		return fmt.Errorf("files: delete %s: %w", key, err)
	}
	// Each upload has its own random directory; without pruning, cleanup
	// would leave one empty directory behind per file. Remove refuses
	// non-empty directories, which ends the climb.
	for d := path.Dir(key); d != "." && d != "/"; d = path.Dir(d) {
		if l.root.Remove(d) != nil {
			break
		}
	}
	return nil
}

func (l *Local) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i]
	}
	return fs.WalkDir(l.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// The start directory may not exist, and fn (or another process)
			// may delete and prune while we walk.
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == start {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if !strings.HasPrefix(p+"/", prefix) && !strings.HasPrefix(prefix, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(p, prefix) || ValidateKey(p) != nil {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		return fn(Info{Key: p, Size: fi.Size(), ContentType: ContentTypeFor(p), ModTime: fi.ModTime()})
	})
}

// URL returns <baseURL>/files/<key>?expires=<unix>&sig=<signature>. It does
// not look at the disk: the HTTP layer answers 404 for a missing object.
func (l *Local) URL(ctx context.Context, key string, ttl time.Duration, baseURL string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if err := checkTTL(ttl); err != nil {
		return "", err
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme == "" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("files: base URL %q is not an absolute URL", baseURL)
	}
	exp := l.now().Add(ttl)
	// Keys are made of URL-safe characters only, so they go in unescaped.
	return fmt.Sprintf("%s/files/%s?expires=%d&sig=%s",
		strings.TrimRight(baseURL, "/"), key, exp.Unix(), l.signer.Sign(key, exp)), nil
}

// ctxReader lets a cancelled request stop a long copy.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
