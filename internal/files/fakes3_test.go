package files

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeS3 is just enough of S3 for minio-go's PutObject (single PUT, with or
// without aws-chunked streaming), GetObject/StatObject, RemoveObject,
// ListObjectsV2, BucketExists and presigned GETs, on one path-style bucket.
// Signatures are not verified; it only checks that the right access key
// signed each request.
type fakeS3 struct {
	t         *testing.T
	bucket    string
	accessKey string
	pageSize  int

	mu      sync.Mutex
	objects map[string]fakeObject
	gets    int // object GETs, presigned or not
	chunked int // PUTs that arrived aws-chunked
}

type fakeObject struct {
	data []byte
	ct   string
	mod  time.Time
}

func newFakeS3(t *testing.T, bucket, accessKey string) (*fakeS3, *httptest.Server) {
	f := &fakeS3{t: t, bucket: bucket, accessKey: accessKey, pageSize: 2, objects: map[string]fakeObject{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeS3) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ks []string
	for k := range f.objects {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (f *fakeS3) fail(w http.ResponseWriter, r *http.Request, status int, code, key string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><Key>%s</Key><BucketName>%s</BucketName><RequestId>1</RequestId></Error>`,
			code, code, key, f.bucket)
	}
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cred := q.Get("X-Amz-Credential")
	if cred == "" {
		cred = strings.TrimPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=")
	}
	if !strings.HasPrefix(cred, f.accessKey+"/") {
		f.fail(w, r, http.StatusForbidden, "InvalidAccessKeyId", "")
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != f.bucket {
		f.fail(w, r, http.StatusNotFound, "NoSuchBucket", key)
		return
	}
	if key == "" {
		switch {
		case r.Method == http.MethodHead:
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodGet && q.Has("location"):
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">us-east-1</LocationConstraint>`)
		case r.Method == http.MethodGet && q.Get("list-type") == "2":
			f.list(w, q.Get("prefix"), q.Get("continuation-token"))
		default:
			f.fail(w, r, http.StatusNotImplemented, "NotImplemented", "")
		}
		return
	}
	switch r.Method {
	case http.MethodPut:
		if len(q) > 0 || r.Header.Get("X-Amz-Copy-Source") != "" {
			f.fail(w, r, http.StatusNotImplemented, "NotImplemented", key) // multipart, copy
			return
		}
		if strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
			f.mu.Lock()
			f.chunked++
			f.mu.Unlock()
		}
		data, err := readS3Body(r)
		if err != nil {
			f.t.Logf("fake s3: PUT %s: %v", key, err)
			f.fail(w, r, http.StatusBadRequest, "IncompleteBody", key)
			return
		}
		sum := md5.Sum(data)
		f.mu.Lock()
		f.objects[key] = fakeObject{data: data, ct: r.Header.Get("Content-Type"), mod: time.Now().UTC().Truncate(time.Second)}
		f.mu.Unlock()
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.WriteHeader(http.StatusOK)
	case http.MethodGet, http.MethodHead:
		f.mu.Lock()
		o, ok := f.objects[key]
		if r.Method == http.MethodGet {
			f.gets++
		}
		f.mu.Unlock()
		if !ok {
			f.fail(w, r, http.StatusNotFound, "NoSuchKey", key)
			return
		}
		sum := md5.Sum(o.data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("Content-Type", o.ct)
		if cd := q.Get("response-content-disposition"); cd != "" {
			w.Header().Set("Content-Disposition", cd)
		}
		http.ServeContent(w, r, "", o.mod, bytes.NewReader(o.data))
	case http.MethodDelete:
		f.mu.Lock()
		delete(f.objects, key)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		f.fail(w, r, http.StatusMethodNotAllowed, "MethodNotAllowed", key)
	}
}

// readS3Body undoes aws-chunked framing ("<hex size>;chunk-signature=…\r\n
// <data>\r\n" … "0;…\r\n" [trailers] "\r\n"), which minio-go uses for PUTs
// over plain HTTP. A body cut short is an error, so nothing is stored.
func readS3Body(r *http.Request) ([]byte, error) {
	if !strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		b, err := io.ReadAll(r.Body)
		if err == nil && r.ContentLength >= 0 && int64(len(b)) != r.ContentLength {
			err = io.ErrUnexpectedEOF
		}
		return b, err
	}
	br := bufio.NewReader(r.Body)
	var out bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		sizeHex, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		n, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("chunk header %q: %v", line, err)
		}
		if n == 0 {
			break
		}
		if _, err := io.CopyN(&out, br, n); err != nil {
			return nil, err
		}
		if crlf, err := br.ReadString('\n'); err != nil || crlf != "\r\n" {
			return nil, fmt.Errorf("chunk trailer %q: %v", crlf, err)
		}
	}
	if want := r.Header.Get("X-Amz-Decoded-Content-Length"); want != "" && want != strconv.Itoa(out.Len()) {
		return nil, fmt.Errorf("decoded length %d, header says %s", out.Len(), want)
	}
	return out.Bytes(), nil
}

type listContents struct {
	Key          string
	LastModified string
	ETag         string
	Size         int64
	StorageClass string
}

type listResult struct {
	XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string
	Prefix                string
	KeyCount              int
	MaxKeys               int
	IsTruncated           bool
	NextContinuationToken string `xml:",omitempty"`
	Contents              []listContents
}

// list pages by pageSize so that the client has to follow continuation
// tokens (the token is simply the last key returned).
func (f *fakeS3) list(w http.ResponseWriter, prefix, after string) {
	res := listResult{Name: f.bucket, Prefix: prefix, MaxKeys: f.pageSize}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ks []string
	for k := range f.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	if len(ks) > f.pageSize {
		ks = ks[:f.pageSize]
		res.IsTruncated = true
		res.NextContinuationToken = ks[len(ks)-1]
	}
	for _, k := range ks {
		o := f.objects[k]
		sum := md5.Sum(o.data)
		res.Contents = append(res.Contents, listContents{
			Key: k, LastModified: o.mod.Format("2006-01-02T15:04:05.000Z"),
			ETag: `"` + hex.EncodeToString(sum[:]) + `"`, Size: int64(len(o.data)), StorageClass: "STANDARD",
		})
	}
	res.KeyCount = len(res.Contents)
	w.Header().Set("Content-Type", "application/xml")
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(res)
}
