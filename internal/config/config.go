// Package config loads the one typed configuration of the service from the
// environment (and a .env file when present), validating everything at start.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// Config is every setting of CONTRACT §1. It is built once by Load and then
// only read.
type Config struct {
	ListenAddr string
	DataDir    string

	DatabaseURL string // normalised: "postgres://…" or "sqlite://<path>"
	RedisURL    string // empty → in-process cache
	// CachePrefix starts every cache key, so that several deployments (or
	// test runs) can share one Redis database.
	CachePrefix string

	SecretKey string

	FrontendURL string // normalised with a scheme
	BackendURL  string // normalised with a scheme
	// TrustedOrigins are the CSRF-trusted origins derived from FRONTEND_URL and BACKEND_URL.
	TrustedOrigins []string

	CORSAllowedOrigins []string
	CORSOriginRegexes  []*regexp.Regexp
	TrustedProxies     []netip.Prefix

	AIProvider       string // resolved: openai|anthropic|offline
	AIProviderSource string // as configured (auto, openai, …)
	AIModel          string
	OpenAIAPIKey     string
	OpenAIBaseURL    string
	AnthropicAPIKey  string
	AnthropicBaseURL string
	AITimeout        time.Duration
	// AIStream asks the provider for a streamed answer, so that the events
	// endpoint shows text as it arrives. Off by default: a plain completion
	// is what every OpenAI-compatible server supports.
	AIStream   bool
	AISyncWait time.Duration

	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string
	StripePrices        map[string]string // e.g. "BASIC_MONTHLY" → price id

	GoogleClientID     string
	GoogleClientSecret string
	GoogleIssuer       string

	SMTPURL   string
	EmailFrom string

	StorageURL string
	// S3 credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) for STORAGE_URL=s3://….
	S3AccessKey, S3SecretKey string

	EmailVerification string // none|optional|mandatory
	RateLimits        string // raw override, parsed by the ratelimit package

	LogLevel  string
	LogFormat string // text|json

	AutoMigrate bool
	// ServeWorkers makes `serve` also run job workers and periodic jobs
	// (the default, so a single process is a complete service; production
	// deployments with separate `worker` processes may turn it off).
	ServeWorkers bool
	// RetentionDays is how old AI responses get before the daily cleanup removes them.
	RetentionDays int
	// IPLimitPerMinute is the per-IP ceiling of CONTRACT §5.
	IPLimitPerMinute int
}

// Dialect is "postgres" or "sqlite".
func (c *Config) Dialect() string {
	if strings.HasPrefix(c.DatabaseURL, "postgres") {
		return "postgres"
	}
	return "sqlite"
}

// SQLitePath is the file path of the embedded database.
func (c *Config) SQLitePath() string {
	return strings.TrimPrefix(c.DatabaseURL, "sqlite://")
}

// Problems collects every configuration error, one line each.
type Problems []string

func (p Problems) Error() string { return "invalid configuration:\n  " + strings.Join(p, "\n  ") }

// Load reads the environment (after loading .env from the working directory
// if it exists; real environment variables win) and validates it.
func Load() (*Config, error) {
	if _, err := os.Stat(".env"); err == nil {
		if err := godotenv.Load(".env"); err != nil {
			return nil, fmt.Errorf(".env: %w", err)
		}
	}
	return FromEnv(os.Getenv)
}

var defaultPrices = map[string]string{
	"BASIC_MONTHLY":   "price_1RQoEVIAtbOFVSqcKAsoIYRD",
	"BASIC_YEARLY":    "price_1RQoEVIAtbOFVSqcte2Ntd6x",
	"PRO_MONTHLY":     "price_1RRCHSIAtbOFVSqcqTbZ0Ep4",
	"PRO_YEARLY":      "price_1RRCHyIAtbOFVSqcDTMWhwfC",
	"PREMIUM_MONTHLY": "price_1RRCJtIAtbOFVSqc5jkDXk1q",
	"PREMIUM_YEARLY":  "price_1RRCKcIAtbOFVSqcrNDlYeEz",
}

// FromEnv builds a Config from a lookup function (os.Getenv in production, a
// map in tests). It never reads the process environment itself, except the
// generated secret key file in DATA_DIR.
func FromEnv(get func(string) string) (*Config, error) {
	var p Problems
	str := func(name, def string) string {
		if v := strings.TrimSpace(get(name)); v != "" {
			return v
		}
		return def
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := strings.TrimSpace(get(name))
		if v == "" {
			return def
		}
		if n, err := strconv.Atoi(v); err == nil { // bare seconds
			return time.Duration(n) * time.Second
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			p = append(p, fmt.Sprintf("%s: %q is not a positive duration (e.g. 120s, 2m)", name, v))
			return def
		}
		return d
	}
	integer := func(name string, def int) int {
		v := strings.TrimSpace(get(name))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			p = append(p, fmt.Sprintf("%s: %q is not a positive integer", name, v))
			return def
		}
		return n
	}
	boolean := func(name string, def bool) bool {
		v := strings.ToLower(strings.TrimSpace(get(name)))
		switch v {
		case "":
			return def
		case "1", "true", "yes", "on":
			return true
		case "0", "false", "no", "off":
			return false
		}
		p = append(p, fmt.Sprintf("%s: %q is not a boolean (true/false)", name, v))
		return def
	}

	c := &Config{}
	c.ListenAddr = str("LISTEN_ADDR", "127.0.0.1:8000")
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		p = append(p, fmt.Sprintf("LISTEN_ADDR: %q is not host:port", c.ListenAddr))
	}
	c.DataDir = str("DATA_DIR", "./data")

	db := str("DATABASE_URL", "")
	switch {
	case db == "":
		c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "cvimprover.db")
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		if _, err := url.Parse(db); err != nil {
			p = append(p, "DATABASE_URL: not a valid URL")
		}
		c.DatabaseURL = db
	case strings.HasPrefix(db, "sqlite://"):
		if strings.TrimPrefix(db, "sqlite://") == "" {
			p = append(p, "DATABASE_URL: sqlite:// needs a file path, e.g. sqlite://./data/app.db")
		}
		c.DatabaseURL = db
	default:
		p = append(p, "DATABASE_URL: must start with postgres://, postgresql:// or sqlite://")
	}

	c.RedisURL = str("REDIS_URL", str("CACHE_URL", ""))
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		p = append(p, "REDIS_URL: must start with redis:// or rediss://")
	}

	c.CachePrefix = str("CACHE_PREFIX", "cvi:")

	c.SecretKey = str("SECRET_KEY", "")
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		p = append(p, "SECRET_KEY: must be at least 32 characters long")
	}

	c.FrontendURL = NormaliseBaseURL(str("FRONTEND_URL", "http://localhost:3000"))
	c.BackendURL = NormaliseBaseURL(str("BACKEND_URL", "http://localhost:8000"))
	c.TrustedOrigins = trustedOrigins(str("FRONTEND_URL", "localhost:3000"), str("BACKEND_URL", "localhost:8000"))

	c.CORSAllowedOrigins = splitList(str("CORS_ALLOWED_ORIGINS", "http://localhost:3000"))
	for _, o := range c.CORSAllowedOrigins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" {
			p = append(p, fmt.Sprintf("CORS_ALLOWED_ORIGINS: %q is not an origin like https://app.example.com", o))
		}
	}
	for _, r := range splitList(get("CORS_ALLOWED_ORIGIN_REGEXES")) {
		re, err := regexp.Compile(r)
		if err != nil {
			p = append(p, fmt.Sprintf("CORS_ALLOWED_ORIGIN_REGEXES: %q: %v", r, err))
			continue
		}
		c.CORSOriginRegexes = append(c.CORSOriginRegexes, re)
	}
	for _, s := range splitList(get("TRUSTED_PROXIES")) {
		pre, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil {
				p = append(p, fmt.Sprintf("TRUSTED_PROXIES: %q is not a CIDR or an IP address", s))
				continue
			}
			pre = netip.PrefixFrom(a, a.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, pre.Masked())
	}

	c.OpenAIAPIKey = str("OPENAI_API_KEY", "")
	c.OpenAIBaseURL = str("OPENAI_BASE_URL", "")
	c.AnthropicAPIKey = str("ANTHROPIC_API_KEY", "")
	c.AnthropicBaseURL = str("ANTHROPIC_BASE_URL", "")
	c.AIProviderSource = strings.ToLower(str("AI_PROVIDER", "auto"))
	switch c.AIProviderSource {
	case "auto":
		switch {
		case c.OpenAIAPIKey != "":
			c.AIProvider = "openai"
		case c.AnthropicAPIKey != "":
			c.AIProvider = "anthropic"
		default:
			c.AIProvider = "offline"
		}
	case "openai", "anthropic", "offline":
		c.AIProvider = c.AIProviderSource
	default:
		p = append(p, fmt.Sprintf("AI_PROVIDER: %q is not one of auto, openai, anthropic, offline", c.AIProviderSource))
	}
	c.AIModel = str("AI_MODEL", "")
	if c.AIModel == "" {
		switch c.AIProvider {
		case "openai":
			c.AIModel = "gpt-4o"
		case "anthropic":
			c.AIModel = "claude-sonnet-4-5"
		default:
			c.AIModel = "offline-report-v1"
		}
	}
	c.AITimeout = dur("AI_TIMEOUT", 120*time.Second)
	c.AISyncWait = dur("AI_SYNC_WAIT", 120*time.Second)
	c.AIStream = boolean("AI_STREAM", false)

	c.StripeSecretKey = str("STRIPE_SECRET_KEY", "")
	c.StripeWebhookSecret = str("STRIPE_WEBHOOK_SECRET", "")
	c.StripeAPIBase = str("STRIPE_API_BASE", "")
	c.StripePrices = map[string]string{}
	for k, def := range defaultPrices {
		c.StripePrices[k] = str("STRIPE_PRICE_"+k, def)
	}

	c.GoogleClientID = str("GOOGLE_CLIENT_ID", "")
	c.GoogleClientSecret = str("GOOGLE_CLIENT_SECRET", "")
	c.GoogleIssuer = str("GOOGLE_ISSUER", "https://accounts.google.com")

	c.SMTPURL = str("SMTP_URL", "")
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			p = append(p, "SMTP_URL: must look like smtp://user:pass@host:port")
		}
	}
	c.EmailFrom = str("EMAIL_FROM", "CVImprover <no-reply@localhost>")

	c.StorageURL = str("STORAGE_URL", "")
	if c.StorageURL != "" && !strings.HasPrefix(c.StorageURL, "s3://") && !strings.HasPrefix(c.StorageURL, "file://") {
		p = append(p, "STORAGE_URL: must start with s3:// or file://")
	}

	c.S3AccessKey = str("AWS_ACCESS_KEY_ID", "")
	c.S3SecretKey = str("AWS_SECRET_ACCESS_KEY", "")

	c.EmailVerification = strings.ToLower(str("ACCOUNT_EMAIL_VERIFICATION", "optional"))
	switch c.EmailVerification {
	case "none", "optional", "mandatory":
	default:
		p = append(p, fmt.Sprintf("ACCOUNT_EMAIL_VERIFICATION: %q is not one of none, optional, mandatory", c.EmailVerification))
	}
	c.RateLimits = str("RATE_LIMITS", "")

	c.LogLevel = strings.ToLower(str("LOG_LEVEL", "info"))
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p = append(p, fmt.Sprintf("LOG_LEVEL: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	c.LogFormat = strings.ToLower(str("LOG_FORMAT", ""))
	switch c.LogFormat {
	case "":
		c.LogFormat = defaultLogFormat()
	case "text", "json":
	default:
		p = append(p, fmt.Sprintf("LOG_FORMAT: %q is not one of text, json", c.LogFormat))
	}
	c.AutoMigrate = boolean("AUTO_MIGRATE", true)
	c.ServeWorkers = boolean("SERVE_WORKERS", true)
	if !c.ServeWorkers && c.Dialect() == "sqlite" {
		p = append(p, "SERVE_WORKERS: must be true with the embedded SQLite database (it allows one process only)")
	}
	c.RetentionDays = integer("RETENTION_DAYS", 90)
	c.IPLimitPerMinute = integer("IP_LIMIT_PER_MINUTE", 600)

	if len(p) > 0 {
		return nil, p
	}
	return c, nil
}

// EnsureSecret fills SecretKey from DATA_DIR/secret_key, generating and
// storing one on first start so that tokens and sessions survive restarts.
func (c *Config) EnsureSecret() error {
	if c.SecretKey != "" {
		return nil
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("DATA_DIR: %w", err)
	}
	path := filepath.Join(c.DataDir, "secret_key")
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			c.SecretKey = s
			return nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("SECRET_KEY: reading %s: %w", path, err)
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return err
	}
	key := hex.EncodeToString(buf)
	// O_EXCL: two processes starting together must agree on one key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			b, rerr := os.ReadFile(path)
			if rerr == nil && len(strings.TrimSpace(string(b))) >= 32 {
				c.SecretKey = strings.TrimSpace(string(b))
				return nil
			}
		}
		return fmt.Errorf("SECRET_KEY: storing a generated key in %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(key + "\n"); err != nil {
		return err
	}
	c.SecretKey = key
	return nil
}

// NormaliseBaseURL adds a scheme the way the original did: http:// for
// localhost and 127.0.0.1, https:// otherwise; a trailing slash is dropped.
func NormaliseBaseURL(v string) string {
	v = strings.TrimRight(strings.TrimSpace(v), "/")
	if strings.Contains(v, "://") {
		return v
	}
	if strings.Contains(v, "localhost") || strings.Contains(v, "127.0.0.1") {
		return "http://" + v
	}
	return "https://" + v
}

func trustedOrigins(vals ...string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, v := range vals {
		v = strings.TrimRight(strings.TrimSpace(v), "/")
		if i := strings.Index(v, "://"); i >= 0 {
			add(v)
			continue
		}
		add("http://" + v)
		add("https://" + v)
	}
	return out
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func defaultLogFormat() string {
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return "text"
	}
	return "json"
}
