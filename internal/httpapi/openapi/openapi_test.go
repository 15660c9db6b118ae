package openapi

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v3"
)

// TestDocumentIsValidOpenAPI31 loads the embedded document with kin-openapi
// and runs its full validation (3.1 rules, references, examples).
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	for name, data := range map[string]func() ([]byte, error){
		"yaml": func() ([]byte, error) { return YAML(), nil },
		"json": JSON,
	} {
		t.Run(name, func(t *testing.T) {
			b, err := data()
			if err != nil {
				t.Fatal(err)
			}
			doc, err := openapi3.NewLoader().LoadFromData(b)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if !doc.IsOpenAPI31OrLater() || !strings.HasPrefix(doc.OpenAPI, "3.1.") {
				t.Fatalf("openapi = %q, want 3.1.x", doc.OpenAPI)
			}
			if err := doc.Validate(context.Background()); err != nil {
				t.Fatalf("validate: %v", err)
			}
		})
	}
}

// TestJSONMatchesYAML: the JSON rendering says exactly what the YAML says,
// and keeps the YAML's order of paths.
func TestJSONMatchesYAML(t *testing.T) {
	var fromYAML, fromJSON any
	if err := yaml.Unmarshal(YAML(), &fromYAML); err != nil {
		t.Fatal(err)
	}
	b, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &fromJSON); err != nil {
		t.Fatal(err)
	}
	// Round-trip the YAML value through JSON so numbers compare alike.
	yb, err := json.Marshal(fromYAML)
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal(yb, &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want, fromJSON) {
		t.Fatal("JSON rendering differs from the YAML document")
	}
	if i, j := strings.Index(string(b), `"/core/plans/"`), strings.Index(string(b), `"/cv/questionnaire/"`); i < 0 || j < 0 || i > j {
		t.Errorf("path order not kept (plans at %d, questionnaire at %d)", i, j)
	}
}
