package handlers

import (
	"os"
	"sort"
	"strings"
	"testing"
)

// catalogueMarkdown renders the error catalogue as the README's table.
func catalogueMarkdown() string {
	codes := make([]string, 0, len(codeCatalogue))
	for c := range codeCatalogue {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var b strings.Builder
	b.WriteString("| code | what the person reads | what they can do | Try again |\n|---|---|---|---|\n")
	for _, c := range codes {
		info := describeCode(c)
		retry := "no"
		if info.Retry {
			retry = "yes"
		}
		b.WriteString("| `" + c + "` | **" + info.Title + "**: " + info.Message + " | " + info.Action + " | " + retry + " |\n")
	}
	return b.String()
}

// TestReadmeHasErrorCatalogue keeps README's catalogue equal to the code's:
// run with UPDATE_README=1 to rewrite it.
func TestReadmeHasErrorCatalogue(t *testing.T) {
	const begin, end = "<!-- catalogue:begin -->\n", "<!-- catalogue:end -->"
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the catalogue markers")
	}
	want := catalogueMarkdown()
	if readme[i+len(begin):j] == want {
		return
	}
	if os.Getenv("UPDATE_README") != "" {
		readme = readme[:i+len(begin)] + want + readme[j:]
		if err := os.WriteFile("../README.md", []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Error("README's error catalogue differs from handlers/codes.go; run UPDATE_README=1 go test -run TestReadmeHasErrorCatalogue ./handlers/")
}
