package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"DATA_DIR": "/srv/data"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != "127.0.0.1:8000" || c.Dialect() != "sqlite" || c.SQLitePath() != "/srv/data/cvimprover.db" {
		t.Errorf("storage defaults: %+v", c)
	}
	if c.RedisURL != "" || c.AIProvider != "offline" || c.AITimeout != 120*time.Second || c.AISyncWait != 120*time.Second {
		t.Errorf("service defaults: %+v", c)
	}
	if c.FrontendURL != "http://localhost:3000" || c.EmailVerification != "optional" || !c.AutoMigrate {
		t.Errorf("url defaults: %+v", c)
	}
	if strings.Join(c.CORSAllowedOrigins, ",") != "http://localhost:3000" {
		t.Errorf("cors default: %v", c.CORSAllowedOrigins)
	}
	if c.StripePrices["BASIC_MONTHLY"] != "price_1RQoEVIAtbOFVSqcKAsoIYRD" {
		t.Errorf("price default: %v", c.StripePrices)
	}
}

func TestAliasesAndAuto(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"CACHE_URL": "redis://x:6379/1", "ANTHROPIC_API_KEY": "k",
		"DATABASE_URL": "postgres://u@h/db", "FRONTEND_URL": "app.example.com", "TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.RedisURL != "redis://x:6379/1" || c.AIProvider != "anthropic" || c.Dialect() != "postgres" {
		t.Errorf("%+v", c)
	}
	if c.FrontendURL != "https://app.example.com" || len(c.TrustedProxies) != 2 {
		t.Errorf("%+v", c)
	}
	if strings.Join(c.TrustedOrigins, " ") != "http://app.example.com https://app.example.com http://localhost:8000 https://localhost:8000" {
		t.Errorf("trusted origins %v", c.TrustedOrigins)
	}
}

func TestEveryProblemOnItsOwnLine(t *testing.T) {
	_, err := FromEnv(env(map[string]string{
		"DATABASE_URL": "mysql://x", "REDIS_URL": "http://x", "AI_PROVIDER": "gpt", "AI_TIMEOUT": "soon",
		"LOG_LEVEL": "loud", "SECRET_KEY": "short", "TRUSTED_PROXIES": "nope", "ACCOUNT_EMAIL_VERIFICATION": "maybe",
	}))
	p, ok := err.(Problems)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	for _, name := range []string{"DATABASE_URL", "REDIS_URL", "AI_PROVIDER", "AI_TIMEOUT", "LOG_LEVEL", "SECRET_KEY", "TRUSTED_PROXIES", "ACCOUNT_EMAIL_VERIFICATION"} {
		found := false
		for _, line := range p {
			if strings.HasPrefix(line, name+":") {
				found = true
			}
		}
		if !found {
			t.Errorf("no line for %s in %v", name, p)
		}
	}
}

func TestGeneratedSecretIsStable(t *testing.T) {
	dir := t.TempDir()
	c1, _ := FromEnv(env(map[string]string{"DATA_DIR": dir}))
	if err := c1.EnsureSecret(); err != nil {
		t.Fatal(err)
	}
	c2, _ := FromEnv(env(map[string]string{"DATA_DIR": dir}))
	if err := c2.EnsureSecret(); err != nil {
		t.Fatal(err)
	}
	if c1.SecretKey == "" || c1.SecretKey != c2.SecretKey {
		t.Fatalf("secret not stable: %q %q", c1.SecretKey, c2.SecretKey)
	}
	fi, err := os.Stat(filepath.Join(dir, "secret_key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", fi.Mode(), err)
	}
}
