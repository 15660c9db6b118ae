package ai

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOfflineProvider(t *testing.T) {
	report := "# Improvement report\n\n## Missing keywords\n- Kubernetes\n- Terraform\n\n## Suggestions\nQuantify results.\n"
	var got Request
	p := mustNew(t, Config{Provider: "offline", Offline: func(_ context.Context, r Request) (string, error) {
		got = r
		return report, nil
	}})
	if p.Name() != "offline" || p.Model() != DefaultOfflineModel || p.Check(context.Background()) != HealthSkipped {
		t.Fatalf("Name/Model/Check = %q/%q/%q", p.Name(), p.Model(), p.Check(context.Background()))
	}

	res, err := generate(t, p, nil)
	if err != nil || res.Text != report {
		t.Fatalf("Generate = %q, %v", res.Text, err)
	}
	if got.System != testSystem || got.User != testUser {
		t.Errorf("builder got %+v", got)
	}

	var chunks []string
	res, err = generate(t, p, func(s string) { chunks = append(chunks, s) })
	if err != nil || res.Text != report {
		t.Fatalf("streaming Generate = %q, %v", res.Text, err)
	}
	if len(chunks) < 2 || strings.Join(chunks, "") != report {
		t.Errorf("chunks = %q", chunks)
	}
}

func TestOfflineFailures(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name  string
		build OfflineFunc
		want  ErrorKind
	}{
		{"empty", func(context.Context, Request) (string, error) { return " \n", nil }, EmptyResponse},
		{"plain error", func(context.Context, Request) (string, error) { return "", boom }, Unexpected},
		{"typed error kept", func(context.Context, Request) (string, error) { return "", &Error{Kind: Busy} }, Busy},
	}
	for _, tc := range tests {
		p := mustNew(t, Config{Provider: "offline", Offline: tc.build})
		_, err := generate(t, p, nil)
		if e := mustAIError(t, err); e.Kind != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, e.Kind, tc.want)
		}
	}
}

func TestSplitChunks(t *testing.T) {
	for _, text := range []string{
		"",
		"x",
		"one line without breaks but with spaces here and there",
		"ünïcödé-without-any-separator-at-all-ünïcödé",
		"a\nb\nc\nd\ne\nf\ng\nh\n",
		strings.Repeat("line of text\n", 40),
	} {
		chunks := splitChunks(text, 4)
		if strings.Join(chunks, "") != text {
			t.Errorf("%q: chunks %q do not rebuild the text", text, chunks)
		}
		if len(chunks) > 5 {
			t.Errorf("%q: %d chunks, want a few", text, len(chunks))
		}
		for _, c := range chunks {
			if !utf8.ValidString(c) {
				t.Errorf("%q: chunk %q splits a rune", text, c)
			}
		}
	}
	if n := len(splitChunks(strings.Repeat("line of text\n", 40), 4)); n < 3 {
		t.Errorf("a long report gives %d chunks, want about 4", n)
	}
}
