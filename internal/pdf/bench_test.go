package pdf

import (
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkRenderTwoPageCV(b *testing.B) {
	md, err := os.ReadFile(filepath.Join(fixtureDir, "cv-two-page.md"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderMarkdown(string(md), RenderOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExtractPerPage(b *testing.B) {
	data := readFixture(b, "cv-two-page.pdf")
	b.ReportAllocs()
	pages := 0
	for b.Loop() {
		res, err := extractBytes(data, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		pages += res.Pages
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(pages), "ns/page")
}
