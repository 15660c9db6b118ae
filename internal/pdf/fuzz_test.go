package pdf

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzExtract feeds mutated fixtures to Extract: whatever the input, it must
// return a typed error or a well-formed result, never panic or hang.
// Regression inputs found by the fuzzer live in testdata/fuzz/FuzzExtract.
func FuzzExtract(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(fixtureDir, "*.pdf"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	lim := Limits{MaxPages: 20, MaxTextBytes: 64 << 10, MaxStreamBytes: 1 << 20, Timeout: 5 * time.Second}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Extract(context.Background(), bytes.NewReader(data), int64(len(data)), lim)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrEncrypted) && !errors.Is(err, ErrTimeout) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if res.Text == "" || len(res.Text) > lim.MaxTextBytes || res.Pages > lim.MaxPages {
			t.Fatalf("bad result: pages=%d len=%d", res.Pages, len(res.Text))
		}
		if res.Empty != (res.Text == TextEmpty) || res.NoText != (res.Text == TextNoText) {
			t.Fatalf("flags do not match text: %+v", res)
		}
	})
}
