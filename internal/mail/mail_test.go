package mail

import (
	"bytes"
	"errors"
	"html"
	"log/slog"
	"strings"
	"testing"
)

func TestLogSenderKeepsSecretsOutOfLogs(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := PasswordReset("https://app.example.com", "uid42", "tok-SECRET-123", "alice")
	m.To = "Alice <alice@example.org>"
	if err := NewLog(logger).Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	out := buf.String()
	if !strings.Contains(out, SubjectPasswordReset) {
		t.Errorf("log does not name the subject: %s", out)
	}
	for _, secret := range []string{"alice@example.org", "Alice", "alice", "tok-SECRET-123", "uid42", "reset-password", "Hello"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q: %s", secret, out)
		}
	}
}

func TestLogSenderNilLogger(t *testing.T) {
	if err := NewLog(nil).Send(t.Context(), Message{Subject: "s"}); err != nil {
		t.Fatal(err)
	}
}

func TestRecorder(t *testing.T) {
	var r Recorder
	if err := r.Send(t.Context(), Message{To: "a@example.org", Subject: "one"}); err != nil {
		t.Fatal(err)
	}
	got := r.Messages()
	if len(got) != 1 || got[0].Subject != "one" {
		t.Fatalf("Messages() = %+v", got)
	}
	got[0].Subject = "changed"
	if r.Messages()[0].Subject != "one" {
		t.Error("Messages() does not return a copy")
	}
	r.Err = errors.New("down")
	if err := r.Send(t.Context(), Message{}); err == nil || len(r.Messages()) != 1 {
		t.Errorf("Send with Err set: err = %v, %d messages", err, len(r.Messages()))
	}
}

func TestLinks(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"reset", PasswordResetLink("https://app.example.com", "4", "c5k1-9f2e"), "https://app.example.com/reset-password/4/c5k1-9f2e/"},
		{"reset, trailing slash", PasswordResetLink("http://localhost:3000/", "a1", "tok"), "http://localhost:3000/reset-password/a1/tok/"},
		{"reset, base with path", PasswordResetLink("https://example.com/app", "1", "t"), "https://example.com/app/reset-password/1/t/"},
		{"reset, escaped segments", PasswordResetLink("https://x.test", "a/b", "t?x=1#f"), "https://x.test/reset-password/a%2Fb/t%3Fx=1%23f/"},
		{"verify", EmailVerificationLink("https://app.example.com", "MQ:1uAbc:xyz"), "https://app.example.com/verify-email/MQ:1uAbc:xyz/"},
		{"verify, trailing slash", EmailVerificationLink("http://localhost:3000/", "k"), "http://localhost:3000/verify-email/k/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestTemplates(t *testing.T) {
	tests := []struct {
		name        string
		msg         Message
		wantSubject string
		wantLink    string
	}{
		{"password reset", PasswordReset("https://app.example.com/", "4", "c5k1-9f2e", "alice"),
			SubjectPasswordReset, "https://app.example.com/reset-password/4/c5k1-9f2e/"},
		{"verification", EmailVerification("https://app.example.com", "key123", "alice"),
			SubjectEmailVerification, "https://app.example.com/verify-email/key123/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.msg
			if m.Subject != tt.wantSubject || m.To != "" {
				t.Errorf("Subject = %q, To = %q", m.Subject, m.To)
			}
			if !strings.Contains(m.Text, "\n"+tt.wantLink+"\n") {
				t.Errorf("text part lacks the link on its own line:\n%s", m.Text)
			}
			if !strings.HasPrefix(m.Text, "Hello alice,") || !strings.Contains(m.HTML, "Hello alice,") {
				t.Errorf("greeting missing:\n%s\n%s", m.Text, m.HTML)
			}
			if !strings.Contains(m.HTML, `href="`+tt.wantLink+`"`) {
				t.Errorf("HTML part lacks href to %s:\n%s", tt.wantLink, m.HTML)
			}
			if !strings.Contains(m.HTML, "<title>"+tt.wantSubject+"</title>") {
				t.Errorf("HTML title missing:\n%s", m.HTML)
			}
		})
	}
}

func TestTemplatesEscapeHTML(t *testing.T) {
	const evil = `<script>alert("x")</script>&`
	for _, m := range []Message{
		PasswordReset("https://app.example.com", "1", "t", evil),
		EmailVerification("https://app.example.com", "k", evil),
	} {
		if strings.Contains(m.HTML, "<script>") {
			t.Errorf("%s: HTML contains an unescaped script tag:\n%s", m.Subject, m.HTML)
		}
		if !strings.Contains(m.HTML, "&lt;script&gt;") {
			t.Errorf("%s: username not HTML-escaped:\n%s", m.Subject, m.HTML)
		}
		if !strings.Contains(html.UnescapeString(m.HTML), "Hello "+evil+",") {
			t.Errorf("%s: escaped username does not round-trip:\n%s", m.Subject, m.HTML)
		}
		if !strings.Contains(m.Text, "Hello "+evil+",") {
			t.Errorf("%s: plain text must carry the name verbatim:\n%s", m.Subject, m.Text)
		}
	}
}

func TestTemplatesEscapeLinkInHTML(t *testing.T) {
	// A token cannot break out of the attribute even if the caller passes junk.
	m := PasswordReset(`https://app.example.com`, `"><img src=x>`, `t`, "bob")
	if strings.Contains(m.HTML, `"><img`) || strings.Contains(m.HTML, "<img") {
		t.Errorf("link broke out of its attribute:\n%s", m.HTML)
	}
}

func TestTemplatesWithoutUsername(t *testing.T) {
	m := EmailVerification("https://app.example.com", "k", "  ")
	if !strings.HasPrefix(m.Text, "Hello,\n") || !strings.Contains(m.HTML, "<p>Hello,</p>") {
		t.Errorf("empty username greeting:\n%s\n%s", m.Text, m.HTML)
	}
}
