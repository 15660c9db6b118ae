package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/auth"
)

// input is a parsed request body: JSON, form or multipart, like DRF's
// parsers. Values keep their JSON type; files are kept apart.
type input struct {
	vals  map[string]any
	files map[string][]*multipart.FileHeader
	form  *multipart.Form
}

const maxMemory = 2 << 20 // multipart parts above this go to temp files

// parseInput reads the body once. An empty body is an empty input.
func parseInput(r *http.Request) (*input, error) {
	in := &input{vals: map[string]any{}}
	if r.Body == nil || r.Body == http.NoBody {
		return in, nil
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "multipart/form-data":
		if params["boundary"] == "" {
			return nil, apperr.DetailErr(apperr.Invalid, "Multipart form parse error - Invalid boundary in multipart: None")
		}
		if err := r.ParseMultipartForm(maxMemory); err != nil {
			if isTooLarge(err) {
				return nil, errTooLarge
			}
			return nil, apperr.DetailErr(apperr.Invalid, "Multipart form parse error - "+err.Error())
		}
		in.form = r.MultipartForm
		for k, v := range r.MultipartForm.Value {
			if len(v) > 0 {
				in.vals[k] = v[len(v)-1]
			}
		}
		in.files = r.MultipartForm.File
	case ct == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			if isTooLarge(err) {
				return nil, errTooLarge
			}
			return nil, apperr.DetailErr(apperr.Invalid, "Form parse error - "+err.Error())
		}
		for k, v := range r.PostForm {
			if len(v) > 0 {
				in.vals[k] = v[len(v)-1]
			}
		}
	default:
		// JSON, and anything else sent by API clients that forget the
		// content type (DRF would answer 415; accepting JSON is kinder).
		b, err := io.ReadAll(r.Body)
		if err != nil {
			if isTooLarge(err) {
				return nil, errTooLarge
			}
			return nil, err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			return in, nil
		}
		if ct != "" && ct != "application/json" && !strings.HasSuffix(ct, "+json") && ct != "text/plain" {
			return nil, &apperr.Error{Kind: apperr.Invalid, Detail: `Unsupported media type "` + ct + `" in request.`}
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, apperr.DetailErr(apperr.Invalid, "JSON parse error - "+jsonErrText(err))
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, apperr.NonField("Invalid data. Expected a dictionary, but got " + jsonKind(v) + ".")
		}
		in.vals = obj
	}
	return in, nil
}

var errTooLarge = &apperr.Error{Kind: apperr.Invalid, Detail: "Request body is too large."}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at offset " + strconv.FormatInt(se.Offset, 10)
	}
	return err.Error()
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case json.Number:
		return "int"
	case bool:
		return "bool"
	case nil:
		return "NoneType"
	}
	return "value"
}

// str converts a field to auth.Str. Numbers become their text (as DRF's
// CharField does); objects, lists and booleans are "Not a valid string."
func (in *input) str(name string, errs map[string][]string) auth.Str {
	v, ok := in.vals[name]
	if !ok {
		return auth.Str{}
	}
	switch x := v.(type) {
	case nil:
		return auth.Str{Set: true, Null: true}
	case string:
		return auth.Str{V: x, Set: true}
	case json.Number:
		return auth.Str{V: x.String(), Set: true}
	}
	errs[name] = append(errs[name], "Not a valid string.")
	return auth.Str{}
}

// cleanup removes multipart temp files.
func (in *input) cleanup() {
	if in != nil && in.form != nil {
		_ = in.form.RemoveAll()
	}
}
