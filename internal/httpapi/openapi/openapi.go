// Package openapi serves the API's OpenAPI 3.1 document (/schema/) and the
// interactive documentation built on it (/), with every asset embedded so
// that the docs work without any network access beyond this server.
//
// The document is written by hand (openapi.yaml) and kept honest by the
// tests of package httpapi: every route the router serves must appear in it,
// every documented path must be served, and recorded responses must
// validate against it.
//
// The Swagger UI assets are swagger-ui-dist 5.35.0 from npm, unmodified
// (Apache-2.0, see assets/LICENSE-swagger-ui.txt).
package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// SwaggerUIVersion is the version of the embedded swagger-ui-dist.
const SwaggerUIVersion = "5.35.0"

// AssetsPrefix is where the documentation page's assets are served.
const AssetsPrefix = "/docs/assets/"

// Media types of the two renderings of the document, as drf-spectacular
// answers them in the original.
const (
	YAMLType = "application/vnd.oai.openapi; charset=utf-8"
	JSONType = "application/vnd.oai.openapi+json; charset=utf-8"
)

var (
	//go:embed openapi.yaml
	specYAML []byte
	//go:embed index.html
	indexHTML []byte
	//go:embed assets
	assetFS embed.FS
)

// YAML is the document as written.
func YAML() []byte { return specYAML }

// JSON is the document converted to JSON, keys in the order written (so
// that the docs list paths as the YAML does). It is computed once.
func JSON() ([]byte, error) {
	d, err := jsonDoc()
	return d.body, err
}

type rendered struct {
	body []byte
	tag  string
}

var jsonDoc = sync.OnceValues(func() (rendered, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(specYAML, &root); err != nil {
		return rendered{}, fmt.Errorf("openapi.yaml: %w", err)
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, &root); err != nil {
		return rendered{}, fmt.Errorf("openapi.yaml: %w", err)
	}
	if !json.Valid(buf.Bytes()) {
		return rendered{}, errors.New("openapi.yaml converts to invalid JSON")
	}
	return rendered{buf.Bytes(), etag(buf.Bytes())}, nil
})

// writeJSON renders a YAML node as JSON, preserving mapping order, which
// decoding into Go maps would lose.
func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return errors.New("expected one document")
		}
		return writeJSON(buf, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: non-scalar mapping key", k.Line)
			}
			if k.Value == "<<" {
				return fmt.Errorf("line %d: merge keys are not supported", k.Line)
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			kb, _ := json.Marshal(k.Value)
			buf.Write(kb)
			buf.WriteByte(':')
			if err := writeJSON(buf, v); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		if _, isTime := v.(time.Time); isTime {
			// An unquoted date stays the text it was written as.
			v = n.Value
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.Write(b)
		return nil
	}
	return fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

// etag is a strong validator of content.
func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

var (
	yamlTag  = etag(specYAML)
	indexTag = etag(indexHTML)
)

// wantsJSON reads ?format= first, then Accept.
func wantsJSON(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "json", "openapi-json":
		return true
	case "yaml", "openapi":
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		switch mt {
		case "application/vnd.oai.openapi+json", "application/json":
			return true
		case "application/vnd.oai.openapi", "application/yaml", "application/x-yaml", "text/yaml":
			return false
		}
	}
	return false
}

// Schema serves GET /schema/: YAML by default, JSON with ?format=json or
// Accept: application/vnd.oai.openapi+json.
func Schema(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	w.Header().Set("Cache-Control", "no-cache")
	if wantsJSON(r) {
		d, err := jsonDoc()
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"detail":"Internal server error."}`))
			return
		}
		serve(w, r, JSONType, d.tag, d.body)
		return
	}
	serve(w, r, YAMLType, yamlTag, specYAML)
}

// contentSecurityPolicy confines the docs page to this server: scripts and
// styles from its own assets, requests only to itself. Swagger UI sets
// inline styles, hence 'unsafe-inline' for styles (never for scripts).
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Docs serves GET /: the interactive documentation.
func Docs(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Cache-Control", "no-cache")
	serve(w, r, "text/html; charset=utf-8", indexTag, indexHTML)
}

type asset struct {
	data, gz  []byte
	ctype     string
	tag, gtag string
}

var assets = sync.OnceValues(func() (map[string]*asset, error) {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, err
	}
	out := map[string]*asset{}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		a := &asset{data: b, ctype: contentType(p), tag: etag(b)}
		if compressible(a.ctype) {
			// Compressed once: the bundle shrinks from 1.7 MB to about 500 kB.
			var gz bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
			_, _ = zw.Write(b)
			_ = zw.Close()
			a.gz = gz.Bytes()
			a.gtag = strings.TrimSuffix(a.tag, `"`) + `-gz"`
		}
		out[p] = a
		return nil
	})
	return out, err
})

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".png":
		return "image/png"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/")
}

// AssetNames lists the embedded assets (for tests).
func AssetNames() []string {
	m, _ := assets()
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Assets serves GET /docs/assets/<file>.
func Assets(w http.ResponseWriter, r *http.Request) {
	m, err := assets()
	name := strings.TrimPrefix(r.URL.Path, AssetsPrefix)
	a, ok := m[name]
	if err != nil || !ok || name == "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"detail":"Not found."}`))
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=86400")
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			serve(w, r, a.ctype, a.gtag, a.gz)
			return
		}
	}
	serve(w, r, a.ctype, a.tag, a.data)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// serve writes b with conditional-request support (ETag, 304) and HEAD.
func serve(w http.ResponseWriter, r *http.Request, ctype, tag string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("ETag", tag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}
