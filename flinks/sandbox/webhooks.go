package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Flinks' own sandbox cannot send webhooks (§8); this one can. When
// Config.WebhookURL is set, once a login's background scrape has ended and
// WebhookDelay has passed on the sandbox's clock, it POSTs the login's data
// as a GetAccountsDetail webhook (§9.1): the data call's 200 body plus
// "ResponseType", signed in flinks-authenticity-key with WebhookSecret.
// One push per scrape; a refresh's new scrape pushes again.

// webhookTick is how often the emitter looks for due pushes (real time).
const webhookTick = 25 * time.Millisecond

const webhookSchema = `
CREATE TABLE IF NOT EXISTS webhooks_sent (
	login_id   TEXT    NOT NULL,
	scrape_end INTEGER NOT NULL,
	PRIMARY KEY (login_id, scrape_end)
);`

// startWebhooks runs the emitter until Close.
func (s *Server) startWebhooks() error {
	if _, err := s.db.Exec(webhookSchema); err != nil {
		return fmt.Errorf("create webhook schema: %w", err)
	}
	// Scrapes that ended before this start (a previous run's) are not pushed now.
	if _, err := s.db.Exec(`INSERT OR IGNORE INTO webhooks_sent (login_id, scrape_end)
		SELECT id, scrape_end FROM logins WHERE scrape_never = 0 AND scrape_end <= ?`, toNS(s.now())); err != nil {
		return fmt.Errorf("mark past webhooks: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopWebhooks = cancel
	s.webhooksDone = make(chan struct{})
	client := &http.Client{Timeout: 30 * time.Second}
	go func() {
		defer close(s.webhooksDone)
		t := time.NewTicker(webhookTick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for _, body := range s.dueWebhooks(ctx) {
					s.pushWebhook(ctx, client, body)
				}
			}
		}
	}()
	return nil
}

// dueWebhooks marks as sent, and returns the bodies of, the pushes due now.
func (s *Server) dueWebhooks(ctx context.Context) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM logins l WHERE scrape_never = 0 AND scrape_end + ? <= ?
		AND NOT EXISTS (SELECT 1 FROM webhooks_sent w WHERE w.login_id = l.id AND w.scrape_end = l.scrape_end)`,
		int64(s.cfg.WebhookDelay), toNS(now))
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("sandbox webhooks: list due", "err", err)
		}
		return nil
	}
	var ids []string
	for rows.Next() {
		var id string
		if rows.Scan(&id) == nil {
			ids = append(ids, id)
		}
	}
	rows.Close()
	var bodies [][]byte
	for _, id := range ids {
		l, err := s.getLogin(ctx, id)
		if err != nil || l == nil {
			continue
		}
		if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO webhooks_sent (login_id, scrape_end) VALUES (?, ?)`, l.ID, toNS(l.ScrapeEnd)); err != nil {
			continue
		}
		def := scenarioOf(l.Scenario)
		if def.authErr != nil {
			continue // the bank refused: there is no data to push
		}
		// The push is about Connect's own session, not a RequestId of ours.
		rq := &request{ID: newGUID(), Tag: l.Tag}
		detail := detailJSON(newDataset(l.ID, l.ScrapeEnd, def), rq, l, &storedParams{Days: 90})
		raw, err := json.Marshal(detail)
		if err != nil {
			continue
		}
		bodies = append(bodies, append([]byte(`{"ResponseType":"GetAccountsDetail",`), raw[1:]...))
	}
	return bodies
}

// pushWebhook POSTs one signed push; Flinks retries a failed one later, the
// sandbox does not.
func (s *Server) pushWebhook(ctx context.Context, client *http.Client, body []byte) {
	m := hmac.New(sha256.New, []byte(s.cfg.WebhookSecret))
	m.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		s.log.Error("sandbox webhooks: build request", "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("flinks-authenticity-key", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("sandbox webhooks: push failed", "err", err)
		}
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.log.Warn("sandbox webhooks: push refused", "status", resp.StatusCode)
	}
}
