package handlers

import (
	"context"
	"sync"

	"github.com/a-h/templ"

	"flinkslink/store"
	"flinkslink/views"
)

// renderedSummaries keeps account summaries as rendered HTML: the summary
// of one snapshot, in one language, on one page of accounts and
// transactions, is the same for every answer that shows it (each poll's
// once the link is ready, a reload, another tab), and rendering it was most
// of a ready status answer. It holds no per-person or per-request state
// (the forms around it, with their CSRF tokens, are rendered each time).
// A new snapshot has another key; bounded in bytes, it starts afresh past
// the bound.
type renderedSummaries struct {
	mu    sync.Mutex
	m     map[summaryKey]templ.Component
	bytes int
}

type summaryKey struct {
	link      string
	fetch     int
	fetchedAt int64
	lang      string
	page      summaryPage
}

// maxSummaryBytes bounds the rendered summaries kept.
const maxSummaryBytes = 32 << 20

// get returns the rendered summary of snap, rendering it on first use.
func (r *renderedSummaries) get(ctx context.Context, snap store.Snapshot, lang string, p summaryPage, pageURL string) (templ.Component, error) {
	key := summaryKey{link: snap.LinkID, fetch: snap.Fetch, fetchedAt: snap.FetchedAt.UnixMilli(), lang: lang, page: p}
	r.mu.Lock()
	c, ok := r.m[key]
	r.mu.Unlock()
	if ok {
		return c, nil
	}
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := views.Summary(summaryView(snap, lang, p, pageURL)).Render(views.WithLang(ctx, lang), buf); err != nil {
		return nil, err
	}
	html := buf.String()
	c = templ.Raw(html)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || r.bytes+len(html) > maxSummaryBytes {
		r.m, r.bytes = map[summaryKey]templ.Component{}, 0
	}
	if _, ok := r.m[key]; !ok {
		r.m[key] = c
		r.bytes += len(html)
	}
	return c, nil
}
