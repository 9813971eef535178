package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"flinkslink/store"
)

// config is the app's configuration, read from the environment (see README).
type config struct {
	Addr   string
	DBPath string
	// DatabaseURL (DATABASE_URL) is a Postgres server shared by every
	// instance; empty: the SQLite file at DBPath.
	DatabaseURL string
	// FetchLease (FETCH_LEASE) bounds how soon another instance takes
	// over the fetches of one that died (see fetcher.Options.LeaseTTL).
	FetchLease     time.Duration
	APIURL         *url.URL // nil: the embedded sandbox
	ConnectURL     *url.URL // nil: the embedded sandbox's Connect
	APIKey         string
	SecretKey      string
	PollInterval   time.Duration
	PollTimeout    time.Duration
	PublicURL      *url.URL
	SessionSecret  string
	LoginIDKey     string
	SandboxScale   float64
	LogLevel       slog.Level
	Demo           *bool // nil: decided from the Connect URL
	BrowserPollDur time.Duration
	DBMaxBytes     int64 // 0: no cap
	WebhookSecret  string
	RateLimitsOff  bool // RATE_LIMITS=off: load tests on 127.0.0.1 only
	// CleartextHTTP2 (HTTP2_CLEARTEXT=on) also serves HTTP/2 without TLS
	// (h2c, prior knowledge), for a load balancer that speaks it to the app.
	CleartextHTTP2 bool
	Days           string // flinks.Days90 or flinks.Days365
	// AccountSelector is Connect's account selector: "", "single" or "multiple".
	AccountSelector string
	ConnectRefresh  time.Duration // reload an unused Connect frame with a new token after this
	// SandboxWebhookDelay is how long after a scrape ends the embedded
	// sandbox pushes its webhook; nil: it sends none.
	SandboxWebhookDelay *time.Duration
}

// sandboxMode reports whether the embedded sandbox plays Flinks.
func (c config) sandboxMode() bool { return c.APIURL == nil }

// loadConfig reads and validates the configuration; each error names its variable.
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:           envOr(getenv, "ADDR", "localhost:8080"),
		DBPath:         envOr(getenv, "DB_PATH", filepath.Join("data", "app.db")),
		APIKey:         getenv("FLINKS_API_KEY"),
		SecretKey:      getenv("FLINKS_SECRET_KEY"),
		SessionSecret:  getenv("SESSION_SECRET"),
		LoginIDKey:     getenv("LOGINID_KEY"),
		BrowserPollDur: time.Second,
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, fmt.Errorf("ADDR: %q is not host:port", c.Addr)
	}
	var err error
	if c.APIURL, err = absURL(getenv, "FLINKS_API_URL"); err != nil {
		return c, err
	}
	if c.ConnectURL, err = absURL(getenv, "FLINKS_CONNECT_URL"); err != nil {
		return c, err
	}
	if (c.APIURL == nil) != (c.ConnectURL == nil) {
		return c, errors.New("FLINKS_CONNECT_URL: set it together with FLINKS_API_URL (both empty = the embedded sandbox)")
	}
	if c.PublicURL, err = absURL(getenv, "PUBLIC_URL"); err != nil {
		return c, err
	}
	// The sandbox answers in seconds; real Flinks asks for 10 s between polls.
	defaultPoll := 10 * time.Second
	if c.sandboxMode() {
		defaultPoll = 2 * time.Second
	}
	if c.PollInterval, err = duration(getenv, "FLINKS_POLL_INTERVAL", defaultPoll); err != nil {
		return c, err
	}
	if c.PollTimeout, err = duration(getenv, "FLINKS_POLL_TIMEOUT", 30*time.Minute); err != nil {
		return c, err
	}
	if c.DatabaseURL = strings.TrimSpace(getenv("DATABASE_URL")); c.DatabaseURL != "" {
		if !store.IsPostgresURL(c.DatabaseURL) {
			return c, errors.New("DATABASE_URL: must be a postgres:// (or postgresql://) URL; without it the app uses the SQLite file at DB_PATH")
		}
		if _, err := url.Parse(c.DatabaseURL); err != nil {
			return c, errors.New("DATABASE_URL: not a URL")
		}
		// Key files beside a local database cannot be shared: every instance
		// must decrypt the same LoginIds and read the same session cookies.
		for _, v := range []struct{ name, value string }{{"SESSION_SECRET", c.SessionSecret}, {"LOGINID_KEY", c.LoginIDKey}} {
			if v.value == "" {
				return c, fmt.Errorf("%s: required with DATABASE_URL: every instance must share it (a key file beside one instance cannot be shared)", v.name)
			}
		}
	}
	if c.FetchLease, err = duration(getenv, "FETCH_LEASE", 30*time.Second); err != nil {
		return c, err
	}
	if c.FetchLease < time.Second {
		return c, errors.New("FETCH_LEASE: must be at least 1s")
	}
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		return c, errors.New("SESSION_SECRET: must be at least 32 characters")
	}
	if c.LoginIDKey != "" && len(c.LoginIDKey) < 32 {
		return c, errors.New("LOGINID_KEY: must be at least 32 characters")
	}
	c.SandboxScale = 1
	if s := getenv("SANDBOX_TIME_SCALE"); s != "" {
		if c.SandboxScale, err = strconv.ParseFloat(s, 64); err != nil || c.SandboxScale <= 0 || c.SandboxScale > 100 {
			return c, fmt.Errorf("SANDBOX_TIME_SCALE: %q is not a number in (0, 100]", s)
		}
	}
	if s := getenv("FLINKS_DEMO"); s != "" {
		demo, err := strconv.ParseBool(s)
		if err != nil {
			return c, fmt.Errorf("FLINKS_DEMO: %q is not true or false", s)
		}
		c.Demo = &demo
	}
	switch s := getenv("FLINKS_DAYS"); s {
	case "", "90":
		c.Days = "Days90"
	case "365":
		c.Days = "Days365"
	default:
		return c, fmt.Errorf("FLINKS_DAYS: %q is not 90 or 365", s)
	}
	switch s := getenv("FLINKS_ACCOUNT_SELECTOR"); s {
	case "", "off":
	case "single", "multiple":
		c.AccountSelector = s
	default:
		return c, fmt.Errorf("FLINKS_ACCOUNT_SELECTOR: %q is not off, single or multiple", s)
	}
	if c.ConnectRefresh, err = duration(getenv, "FLINKS_CONNECT_REFRESH", 10*time.Minute); err != nil {
		return c, err
	}
	switch s := getenv("RATE_LIMITS"); s {
	case "", "on":
	case "off":
		c.RateLimitsOff = true
	default:
		return c, fmt.Errorf("RATE_LIMITS: %q is not on or off", s)
	}
	switch s := getenv("HTTP2_CLEARTEXT"); s {
	case "", "off":
	case "on":
		c.CleartextHTTP2 = true
	default:
		return c, fmt.Errorf("HTTP2_CLEARTEXT: %q is not on or off", s)
	}
	c.WebhookSecret = getenv("FLINKS_WEBHOOK_SECRET")
	if c.WebhookSecret != "" && len(c.WebhookSecret) < 16 {
		return c, errors.New("FLINKS_WEBHOOK_SECRET: must be at least 16 characters")
	}
	if s := strings.TrimSpace(getenv("SANDBOX_WEBHOOK_DELAY")); s != "" && s != "off" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return c, fmt.Errorf("SANDBOX_WEBHOOK_DELAY: %q is not off or a Go duration such as 0s or 5s", s)
		}
		c.SandboxWebhookDelay = &d
	}
	if s := getenv("DB_MAX_MB"); s != "" {
		mb, err := strconv.ParseInt(s, 10, 64)
		if err != nil || mb < 1 || mb > 1<<20 {
			return c, fmt.Errorf("DB_MAX_MB: %q is not a whole number of megabytes from 1 to 1048576", s)
		}
		c.DBMaxBytes = mb << 20
		if c.DatabaseURL != "" {
			return c, errors.New("DB_MAX_MB: caps the SQLite file only; a Postgres server bounds its own disk")
		}
	}
	if s := getenv("LOG_LEVEL"); s != "" {
		if err := c.LogLevel.UnmarshalText([]byte(s)); err != nil {
			return c, fmt.Errorf("LOG_LEVEL: %q is not debug, info, warn or error", s)
		}
	}
	return c, nil
}

// secretKey returns 32 key bytes: derived from the configured value when there
// is one, else from a key file beside the database, created on first start.
func secretKey(configured, file string) ([]byte, error) {
	if configured != "" {
		return derive([]byte(configured), "configured"), nil
	}
	return store.LoadOrCreateKey(file, 32)
}

// derive returns a 32-byte sub-key for one purpose, so one secret never serves two.
func derive(key []byte, purpose string) []byte {
	sum := sha256.Sum256(append([]byte(purpose+"\x00"), key...))
	return sum[:]
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// absURL parses an optional absolute http(s) URL from the environment.
func absURL(getenv func(string) string, key string) (*url.URL, error) {
	raw := strings.TrimSpace(getenv(key))
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: %q is not an absolute http(s) URL", key, raw)
	}
	return u, nil
}

func duration(getenv func(string) string, key string, def time.Duration) (time.Duration, error) {
	raw := getenv(key)
	if raw == "" {
		return def, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive Go duration such as 10s or 30m", key, raw)
	}
	return d, nil
}
