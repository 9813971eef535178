package handlers

import (
	"flinkslink/store"
	"flinkslink/views"
)

// noteText is what a timeline event says, in the page's language. Events
// written before notes had kinds show their stored English sentence.
func noteText(e store.Event, lang string) string {
	if e.Note.Kind == "" {
		return e.Text
	}
	return views.ForTimeline(lang).Notes.Note(string(e.Note.Kind), e.Note.Args)
}
