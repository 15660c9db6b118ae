package mail

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
)

const testFrom = "CVImprover <no-reply@example.com>"

func newTestSMTP(t *testing.T, rawURL string) *SMTP {
	t.Helper()
	s, err := NewSMTP(rawURL, testFrom)
	if err != nil {
		t.Fatalf("NewSMTP(%q): %v", rawURL, err)
	}
	s.tlsConfig = testCert.client // trust the sink's self-signed certificate
	return s
}

func (s *sink) url(scheme, userinfo, query string) string {
	u := scheme + "://"
	if userinfo != "" {
		u += userinfo + "@"
	}
	u += "127.0.0.1:" + s.port()
	if query != "" {
		u += "?" + query
	}
	return u
}

type part struct{ contentType, body string }

// parseMessage returns the headers and the text parts of a received message.
func parseMessage(t *testing.T, data string) (*mail.Message, []part) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", mt)
	}
	var parts []part
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // also undoes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts = append(parts, part{ct, strings.ReplaceAll(string(b), "\r\n", "\n")})
	}
	return msg, parts
}

func TestSendDeliversMessage(t *testing.T) {
	sk := newSink(t)
	s := newTestSMTP(t, sk.url("smtp", "", ""))
	m := PasswordReset("https://app.example.com", "4", "abc-123", "alice")
	m.To = "Alice Example <alice@example.org>"
	if err := s.Send(t.Context(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := sk.messages()
	if len(got) != 1 {
		t.Fatalf("sink received %d messages, want 1", len(got))
	}
	r := got[0]
	if r.From != "no-reply@example.com" || r.To != "alice@example.org" {
		t.Errorf("envelope = %q -> %q", r.From, r.To)
	}
	if r.AuthMech != "" || r.TLS {
		t.Errorf("auth %q, tls %v; want neither", r.AuthMech, r.TLS)
	}

	msg, parts := parseMessage(t, r.Data)
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil || from.Name != "CVImprover" || from.Address != "no-reply@example.com" {
		t.Errorf("From = %q (%v)", msg.Header.Get("From"), err)
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil || to.Name != "Alice Example" || to.Address != "alice@example.org" {
		t.Errorf("To = %q (%v)", msg.Header.Get("To"), err)
	}
	if got := msg.Header.Get("Subject"); got != SubjectPasswordReset {
		t.Errorf("Subject = %q", got)
	}
	if got := msg.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	if id := msg.Header.Get("Message-ID"); !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID = %q, want the sender's domain", id)
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if len(parts) != 2 || parts[0].contentType != "text/plain" || parts[1].contentType != "text/html" {
		t.Fatalf("parts = %+v, want text/plain then text/html", parts)
	}
	if parts[0].body != m.Text {
		t.Errorf("text part differs:\n got %q\nwant %q", parts[0].body, m.Text)
	}
	if parts[1].body != m.HTML {
		t.Errorf("html part differs:\n got %q\nwant %q", parts[1].body, m.HTML)
	}
}

func TestSendTLSModes(t *testing.T) {
	tests := []struct {
		name     string
		opts     []sinkOption
		scheme   string
		query    string
		wantTLS  bool
		wantFail bool
	}{
		{"opportunistic, offered", []sinkOption{withStartTLS}, "smtp", "", true, false},
		{"opportunistic, not offered", nil, "smtp", "", false, false},
		{"none, offered", []sinkOption{withStartTLS}, "smtp", "tls=none", false, false},
		{"required, offered", []sinkOption{withStartTLS}, "smtp", "tls=required", true, false},
		{"required, not offered", nil, "smtp", "tls=required", false, true},
		{"implicit", []sinkOption{withImplicitTLS}, "smtps", "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sk := newSink(t, tt.opts...)
			s := newTestSMTP(t, sk.url(tt.scheme, "", tt.query))
			err := s.Send(t.Context(), Message{To: "bob@example.org", Subject: "s", Text: "t"})
			if tt.wantFail {
				if err == nil || Permanent(err) {
					t.Fatalf("err = %v, want a transient error", err)
				}
				if n := len(sk.messages()); n != 0 {
					t.Fatalf("%d messages delivered in clear text", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := sk.messages()
			if len(got) != 1 || got[0].TLS != tt.wantTLS {
				t.Fatalf("received %+v, want one message with TLS=%v", got, tt.wantTLS)
			}
		})
	}
}

func TestSendAuth(t *testing.T) {
	tests := []struct {
		name     string
		opts     []sinkOption
		scheme   string
		userinfo string
		query    string
		wantMech string
		wantUser string
		wantPass string
	}{
		{"plain preferred", []sinkOption{withAuth("")}, "smtp", "mailer:s3cret", "", "PLAIN", "mailer", "s3cret"},
		{"login only", []sinkOption{withAuth("LOGIN")}, "smtp", "mailer:s3cret", "", "LOGIN", "mailer", "s3cret"},
		{"percent-encoded", []sinkOption{withAuth("")}, "smtp", "me%40example.com:p%40ss%3Aw%2Frd", "", "PLAIN", "me@example.com", "p@ss:w/rd"},
		{"after STARTTLS", []sinkOption{withAuth(""), withStartTLS}, "smtp", "mailer:s3cret", "", "PLAIN", "mailer", "s3cret"},
		{"implicit TLS", []sinkOption{withAuth(""), withImplicitTLS}, "smtps", "mailer:s3cret", "", "PLAIN", "mailer", "s3cret"},
		{"tls=none", []sinkOption{withAuth("LOGIN")}, "smtp", "mailer:s3cret", "tls=none", "LOGIN", "mailer", "s3cret"},
		{"no credentials", []sinkOption{withAuth("")}, "smtp", "", "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sk := newSink(t, tt.opts...)
			s := newTestSMTP(t, sk.url(tt.scheme, tt.userinfo, tt.query))
			if err := s.Send(t.Context(), Message{To: "bob@example.org", Subject: "s", Text: "t"}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := sk.messages()
			if len(got) != 1 {
				t.Fatalf("received %d messages", len(got))
			}
			r := got[0]
			if r.AuthMech != tt.wantMech || r.User != tt.wantUser || r.Pass != tt.wantPass {
				t.Errorf("auth = %q %q/%q, want %q %q/%q", r.AuthMech, r.User, r.Pass, tt.wantMech, tt.wantUser, tt.wantPass)
			}
		})
	}
}

func TestSendCredentialsButNoAuthOffered(t *testing.T) {
	sk := newSink(t)
	s := newTestSMTP(t, sk.url("smtp", "mailer:s3cret", ""))
	err := s.Send(t.Context(), Message{To: "bob@example.org", Subject: "s", Text: "t"})
	if err == nil {
		t.Fatal("Send succeeded without the configured authentication")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error leaks the password: %v", err)
	}
	if n := len(sk.messages()); n != 0 {
		t.Errorf("%d messages delivered unauthenticated", n)
	}
}

func TestSendFailures(t *testing.T) {
	const rcpt = "Bob.Smith@example.org"
	tests := []struct {
		name      string
		reply     string
		wantPerm  bool
		wantCode  int
		wantInErr string
	}{
		{"unknown recipient", "550 5.1.1 <%s>: Recipient address rejected: User unknown", true, 550, "550"},
		{"mailbox full", "552 5.2.2 <%s>: mailbox full", true, 552, "552"},
		{"greylisted", "450 4.2.0 <%s>: Recipient address rejected: Greylisted", false, 450, "450"},
		{"temporary failure", "451 4.3.0 <%s>: try again later", false, 451, "451"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sk := newSink(t, func(s *sink) { s.rcptReply = tt.reply })
			s := newTestSMTP(t, sk.url("smtp", "", ""))
			err := s.Send(t.Context(), Message{To: "Bob <" + rcpt + ">", Subject: "s", Text: "t"})
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if Permanent(err) != tt.wantPerm || Code(err) != tt.wantCode {
				t.Errorf("Permanent = %v, Code = %d; want %v, %d (err: %v)", Permanent(err), Code(err), tt.wantPerm, tt.wantCode, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantInErr) {
				t.Errorf("error %q does not mention %q", msg, tt.wantInErr)
			}
			if strings.Contains(strings.ToLower(msg), strings.ToLower(rcpt)) {
				t.Errorf("error leaks the recipient: %q", msg)
			}
			if n := len(sk.messages()); n != 0 {
				t.Errorf("%d messages delivered", n)
			}
		})
	}
}

func TestSendClosedPortIsTransient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := newTestSMTP(t, "smtp://"+addr)
	err = s.Send(t.Context(), Message{To: "bob@example.org", Subject: "s", Text: "t"})
	if err == nil {
		t.Fatal("Send to a closed port succeeded")
	}
	if Permanent(err) || Code(err) != 0 {
		t.Errorf("Permanent = %v, Code = %d; want a transient non-SMTP error: %v", Permanent(err), Code(err), err)
	}
}

func TestSendInvalidRecipientIsPermanent(t *testing.T) {
	sk := newSink(t)
	s := newTestSMTP(t, sk.url("smtp", "", ""))
	for _, to := range []string{"", "not an address", "bob@example.org\r\nBcc: eve@example.org"} {
		err := s.Send(t.Context(), Message{To: to, Subject: "s", Text: "t"})
		if err == nil || !Permanent(err) {
			t.Errorf("To %q: err = %v, want a permanent error", to, err)
		}
	}
	if n := len(sk.accepted); n != 0 {
		t.Errorf("%d connections opened for invalid recipients", n)
	}
}

func TestSendCancelled(t *testing.T) {
	sk := newSink(t, func(s *sink) { s.noGreeting = true })
	s := newTestSMTP(t, sk.url("smtp", "", ""))
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-sk.accepted
		cancel()
	}()
	err := s.Send(ctx, Message{To: "bob@example.org", Subject: "s", Text: "t"})
	if !errors.Is(err, context.Canceled) || Permanent(err) {
		t.Fatalf("err = %v, want a transient context.Canceled", err)
	}
}

func TestSendConcurrent(t *testing.T) {
	sk := newSink(t, withAuth(""), withStartTLS)
	s := newTestSMTP(t, sk.url("smtp", "mailer:s3cret", ""))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			errs <- s.Send(t.Context(), Message{To: "bob@example.org", Subject: "s", Text: "t"})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := len(sk.messages()); got != n {
		t.Errorf("received %d messages, want %d", got, n)
	}
}

func TestSendHTMLOnlyAndTextOnly(t *testing.T) {
	tests := []struct {
		name, text, html, wantType string
	}{
		{"text only", "hello", "", "text/plain"},
		{"html only", "", "<p>hello</p>", "text/html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sk := newSink(t)
			s := newTestSMTP(t, sk.url("smtp", "", ""))
			if err := s.Send(t.Context(), Message{To: "bob@example.org", Subject: "s", Text: tt.text, HTML: tt.html}); err != nil {
				t.Fatal(err)
			}
			msg, err := mail.ReadMessage(strings.NewReader(sk.messages()[0].Data))
			if err != nil {
				t.Fatal(err)
			}
			if mt, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); mt != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", mt, tt.wantType)
			}
		})
	}
}

func TestSubjectIsOneLine(t *testing.T) {
	sk := newSink(t)
	s := newTestSMTP(t, sk.url("smtp", "", ""))
	if err := s.Send(t.Context(), Message{To: "bob@example.org", Subject: "Hi\r\nBcc: eve@example.org", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(sk.messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("Bcc"); got != "" {
		t.Errorf("header injected through the subject: Bcc = %q", got)
	}
	if got := msg.Header.Get("Subject"); got != "Hi Bcc: eve@example.org" {
		t.Errorf("Subject = %q", got)
	}
}

func TestNewSMTP(t *testing.T) {
	tests := []struct {
		url, from  string
		wantErr    string // substring; "" means success
		wantString string
	}{
		{"smtp://mail.example.com", testFrom, "", "smtp://mail.example.com:25"},
		{"smtp://u:secretpw@mail.example.com:587", testFrom, "", "smtp://***@mail.example.com:587"},
		{"smtps://u:secretpw@mail.example.com", testFrom, "", "smtps://***@mail.example.com:465"},
		{"smtp://localhost:1025?tls=none", "no-reply@example.com", "", "smtp://localhost:1025?tls=none"},
		{"smtp://mail.example.com?tls=required", testFrom, "", "smtp://mail.example.com:25?tls=required"},
		{"SMTP://[::1]:2525", testFrom, "", "smtp://[::1]:2525"},
		{"http://mail.example.com", testFrom, "scheme must be smtp or smtps", ""},
		{"smtp://", testFrom, "no host", ""},
		{"smtp:mail.example.com", testFrom, "no host", ""},
		{"smtp://u:secretpw@mail.example.com:notaport", testFrom, "SMTP_URL", ""},
		{"smtp://u:secretpw@mail.example.com:70000", testFrom, "invalid port", ""},
		{"smtp://mail.example.com/path", testFrom, "unexpected path", ""},
		{"smtp://mail.example.com?tls=maybe", testFrom, "tls must be", ""},
		{"smtp://mail.example.com?timeout=5s", testFrom, "unknown parameter", ""},
		{"smtps://mail.example.com?tls=none", testFrom, "smtps always uses implicit TLS", ""},
		{"smtp://mail.example.com", "", "EMAIL_FROM: required", ""},
		{"smtp://mail.example.com", "CVImprover", "EMAIL_FROM", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url+" "+tt.from, func(t *testing.T) {
			s, err := NewSMTP(tt.url, tt.from)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secretpw") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tt.wantString {
				t.Errorf("String() = %q, want %q", got, tt.wantString)
			}
		})
	}
}

func TestPermanentOnForeignErrors(t *testing.T) {
	if Permanent(nil) || Permanent(errors.New("boom")) || Permanent(context.DeadlineExceeded) {
		t.Error("non-SMTP errors must be transient")
	}
}

func withStartTLS(s *sink)    { s.startTLS = testCert.server }
func withImplicitTLS(s *sink) { s.implicitTLS = true }
func withAuth(mechs string) sinkOption {
	return func(s *sink) { s.auth, s.authMechs = true, mechs }
}
