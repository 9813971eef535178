package views

import (
	"reflect"
	"strings"
	"testing"
)

// TestLinksMessagesComplete fails when a text of the links feature is missing
// in one language (the pattern of TestMessagesComplete).
func TestLinksMessagesComplete(t *testing.T) {
	for lang, m := range map[string]*LinksMessages{English: &englishLinks, French: &frenchLinks} {
		v := reflect.ValueOf(*m)
		for i := 0; i < v.NumField(); i++ {
			f, name := v.Field(i), v.Type().Field(i).Name
			switch f.Kind() {
			case reflect.String:
				if f.String() == "" {
					t.Errorf("%s: %s is empty", lang, name)
				}
			case reflect.Func:
				if f.IsNil() {
					t.Errorf("%s: %s is nil", lang, name)
				}
			}
		}
		if m.CopyLabel("Username", "x") == "" || m.PendingCurrent("x", "y") == "" || m.LimitDefault("30 min") == "" {
			t.Errorf("%s: a message function returns nothing", lang)
		}
	}
	sameKeys := func(name string, a, b map[string]string) {
		t.Helper()
		for k, v := range a {
			if v == "" || b[k] == "" {
				t.Errorf("%s[%q] missing or empty in a language", name, k)
			}
		}
		if len(a) != len(b) || len(a) == 0 {
			t.Errorf("%s: %d English entries, %d French", name, len(a), len(b))
		}
	}
	sameKeys("Notices", englishLinks.Notices, frenchLinks.Notices)
	sameKeys("PendingOptions", englishLinks.PendingOptions, frenchLinks.PendingOptions)
	sameKeys("LimitOptions", englishLinks.LimitOptions, frenchLinks.LimitOptions)
	if len(englishLinks.Errors) != len(frenchLinks.Errors) {
		t.Errorf("Errors: %d English, %d French", len(englishLinks.Errors), len(frenchLinks.Errors))
	}
	for k, en := range englishLinks.Errors {
		fr, ok := frenchLinks.Errors[k]
		if !ok || fr.Heading == "" || fr.Message == "" || en.Heading == "" || en.Message == "" || len(fr.Hints) != len(en.Hints) {
			t.Errorf("Errors[%q] incomplete: en %+v fr %+v", k, en, fr)
		}
	}
	// English scenario summaries are the sandbox's own; French ones are kept
	// here (every sandbox user has one: see TestScenarioCardSpeaksFrench in
	// package main, which knows the sandbox).
	if englishLinks.ScenarioSummaries != nil {
		t.Error("English scenario summaries should come from the sandbox")
	}
	for k, v := range frenchLinks.ScenarioSummaries {
		if v == "" {
			t.Errorf("French summary of %q is empty", k)
		}
	}
}

func TestScenarioSummaryFallsBackToTheSandboxText(t *testing.T) {
	if got := ScenarioSummary(English, ScenarioView{Username: "Greatday", Summary: "sandbox text"}); got != "sandbox text" {
		t.Errorf("English: %q", got)
	}
	if got := ScenarioSummary(French, ScenarioView{Username: "Greatday", Summary: "sandbox text"}); got == "sandbox text" || got == "" {
		t.Errorf("French Greatday (any case): %q", got)
	}
	if got := ScenarioSummary(French, ScenarioView{Username: "someone_new", Summary: "sandbox text"}); got != "sandbox text" {
		t.Errorf("French, untranslated user: %q", got)
	}
}

// TestScenarioSummaryHonoursTheTimeScale: at SANDBOX_TIME_SCALE=0.05 a
// scenario pending ~10 s says ~0.5 s, in both languages.
func TestScenarioSummaryHonoursTheTimeScale(t *testing.T) {
	sc := ScenarioView{Username: "greatday_nomfa", Summary: "No MFA; data pending ~10 s (202)", PendingRef: "~10 s", PendingShown: "~0.5 s"}
	if got := ScenarioSummary(English, sc); got != "No MFA; data pending ~0.5 s (202)" {
		t.Errorf("English: %q", got)
	}
	if got := ScenarioSummary(French, sc); !strings.Contains(got, "~0,5 s") || strings.Contains(got, "~10 s") {
		t.Errorf("French: %q", got)
	}
}
