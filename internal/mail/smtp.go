package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Timeout bounds connecting and every SMTP command of one Send.
const Timeout = 10 * time.Second

// SMTP sends mail through an SMTP server (SMTP_URL).
//
// Every Send opens its own connection and closes it afterwards. Transactional
// mail is rare (a few messages per user per month), so a pool would only add
// stale-connection handling and a shared go-mail client (whose auth
// negotiation mutates client state) for no measurable gain.
type SMTP struct {
	host        string
	port        int
	implicitTLS bool
	policy      gomail.TLSPolicy
	user, pass  string
	auth        bool
	from        *mail.Address
	timeout     time.Duration
	tlsConfig   *tls.Config
}

// NewSMTP parses SMTP_URL and EMAIL_FROM.
//
// URL forms:
//
//	smtp://[user[:pass]@]host[:port]            STARTTLS when offered, plain otherwise (port 25)
//	smtp://host:port?tls=required               STARTTLS or fail
//	smtp://host:port?tls=none                   never TLS (local sinks such as Mailpit)
//	smtps://[user[:pass]@]host[:port]           implicit TLS (port 465)
//
// User and password are percent-decoded. With credentials, AUTH PLAIN or LOGIN
// (whichever the server offers) is used, and required: a server that offers no
// AUTH fails the send instead of mail going out unauthenticated. Credentials are
// only sent over TLS or to a loopback host, except with tls=none, where the
// operator has opted into plain text explicitly; with the default policy a
// server that stops offering STARTTLS therefore cannot harvest the password.
//
// from is an RFC 5322 address, optionally with a display name
// ("CVImprover <no-reply@example.com>"). Error texts never contain the password.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		// *url.Error quotes the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("SMTP_URL: not a valid URL: %v", err)
	}
	s := &SMTP{timeout: Timeout}
	switch u.Scheme {
	case "smtp":
		s.port = 25
		s.policy = gomail.TLSOpportunistic
	case "smtps":
		s.port = 465
		s.implicitTLS = true
		s.policy = gomail.NoTLS // go-mail's STARTTLS logic is skipped; the dialer does TLS
	default:
		return nil, fmt.Errorf("SMTP_URL: scheme must be smtp or smtps, got %q", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, errors.New("SMTP_URL: no host (expected smtp://[user:pass@]host[:port])")
	}
	s.host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("SMTP_URL: invalid port %q", p)
		}
		s.port = n
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("SMTP_URL: unexpected path (expected smtp://[user:pass@]host[:port])")
	}
	if u.Fragment != "" {
		return nil, errors.New("SMTP_URL: unexpected fragment")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("SMTP_URL: invalid query: %v", err)
	}
	for k, v := range q {
		if k != "tls" {
			return nil, fmt.Errorf("SMTP_URL: unknown parameter %q (only tls is supported)", k)
		}
		if len(v) != 1 {
			return nil, errors.New("SMTP_URL: tls given more than once")
		}
		if s.implicitTLS {
			return nil, errors.New("SMTP_URL: smtps always uses implicit TLS; the tls parameter applies to smtp:// only")
		}
		switch strings.ToLower(v[0]) {
		case "", "opportunistic":
			s.policy = gomail.TLSOpportunistic
		case "required", "starttls":
			s.policy = gomail.TLSMandatory
		case "none":
			s.policy = gomail.NoTLS
		default:
			return nil, fmt.Errorf("SMTP_URL: tls must be none, opportunistic or required, got %q", v[0])
		}
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		s.auth = s.user != "" || s.pass != ""
	}
	s.tlsConfig = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}

	from = strings.TrimSpace(from)
	if from == "" {
		return nil, errors.New("EMAIL_FROM: required when SMTP_URL is set")
	}
	if s.from, err = mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("EMAIL_FROM: not a valid address %q: %v", from, err)
	}
	return s, nil
}

// String describes the server without credentials, for start-up logs.
func (s *SMTP) String() string {
	scheme, mode := "smtp", ""
	switch {
	case s.implicitTLS:
		scheme = "smtps"
	case s.policy == gomail.NoTLS:
		mode = "?tls=none"
	case s.policy == gomail.TLSMandatory:
		mode = "?tls=required"
	}
	auth := ""
	if s.auth {
		auth = "***@"
	}
	return scheme + "://" + auth + net.JoinHostPort(s.host, strconv.Itoa(s.port)) + mode
}

// Send delivers m over a fresh connection. ctx cancels the attempt at any
// point (the connection is closed); otherwise every step is bounded by Timeout.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.message(m)
	if err != nil {
		return &sendError{msg: "mail: " + err.Error(), permanent: true, err: err}
	}
	// Set by dial, which go-mail calls synchronously from DialAndSendWithContext.
	var (
		conn net.Conn
		stop func() bool
	)
	dial := func(dctx context.Context, network, _ string) (net.Conn, error) {
		// go-mail formats host:port without brackets, which breaks IPv6 literals.
		addr := net.JoinHostPort(s.host, strconv.Itoa(s.port))
		d := &net.Dialer{Timeout: s.timeout}
		var c net.Conn
		var err error
		if s.implicitTLS {
			c, err = (&tls.Dialer{NetDialer: d, Config: s.tlsConfig}).DialContext(dctx, network, addr)
		} else {
			c, err = d.DialContext(dctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		// dctx ends when the dial phase ends; the caller's ctx covers the whole send.
		conn, stop = c, context.AfterFunc(ctx, func() { _ = c.Close() })
		return c, nil
	}
	client, err := gomail.NewClient(s.host, s.options(dial)...)
	if err == nil {
		err = client.DialAndSendWithContext(ctx, msg)
	}
	if conn != nil {
		stop()
		// go-mail leaves the connection open when EHLO, STARTTLS or AUTH fail;
		// after a successful QUIT this is a no-op.
		_ = conn.Close()
	}
	if err != nil {
		return s.failure(ctx, m.To, err)
	}
	return nil
}

func (s *SMTP) options(dial gomail.DialContextFunc) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(s.tlsConfig),
		gomail.WithTLSPolicy(s.policy),
	}
	if s.implicitTLS {
		opts = append(opts, gomail.WithSSL())
	}
	if s.auth {
		mechs := []gomail.SMTPAuthType{gomail.SMTPAuthPlain, gomail.SMTPAuthLogin}
		if s.policy == gomail.NoTLS && !s.implicitTLS {
			mechs = []gomail.SMTPAuthType{gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc}
		}
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(mechs...),
			gomail.WithUsername(s.user),
			gomail.WithPassword(s.pass))
	}
	return opts
}

func (s *SMTP) message(m Message) (*gomail.Msg, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, errors.New("invalid recipient address")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	from := *s.from
	msg.FromMailAddress(&from)
	msg.ToMailAddress(to)
	msg.Subject(oneLine(m.Subject))
	msg.SetDate()
	// go-mail would use the local host name, which in a container is
	// meaningless; the sender's domain is what receivers expect.
	msg.SetMessageIDWithValue(randomID() + "@" + domainOf(s.from.Address))
	// RFC 3834: keeps auto-responders (vacation replies) from answering.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	switch {
	case m.Text != "" || m.HTML == "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		if m.HTML != "" {
			msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
		}
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// failure turns a go-mail error into a sendError whose text does not contain
// the recipient (servers and go-mail both echo it) and whose permanence
// follows the SMTP reply class.
func (s *SMTP) failure(ctx context.Context, to string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &sendError{msg: "mail: send aborted: " + ctxErr.Error(), err: errors.Join(ctxErr, err)}
	}
	code, permanent := classify(err)
	return &sendError{
		msg:       "mail: " + redact(err.Error(), to),
		code:      code,
		permanent: permanent,
		err:       err,
	}
}

// classify returns the SMTP reply code found in err (0 for network and local
// errors) and whether it is permanent (5xx).
func classify(err error) (code int, permanent bool) {
	var se *gomail.SendError
	var te *textproto.Error
	switch {
	case errors.As(err, &se) && se.ErrorCode() != 0:
		code = se.ErrorCode()
	case errors.As(err, &te):
		code = te.Code
	}
	return code, code >= 500 && code < 600
}

type sendError struct {
	msg       string
	code      int
	permanent bool
	err       error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.err }

// Permanent reports whether err means the message can never be delivered as
// it is: a 5xx SMTP reply (unknown recipient, rejected content, refused
// credentials) or an invalid recipient address. Connection failures, timeouts,
// cancellation and 4xx replies are transient and worth a retry. nil is not
// permanent.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	var se *sendError
	if errors.As(err, &se) {
		return se.permanent
	}
	_, p := classify(err)
	return p
}

// Code returns the SMTP reply code carried by err, or 0 when the failure was
// not an SMTP reply (network error, timeout, invalid message).
func Code(err error) int {
	var se *sendError
	if errors.As(err, &se) {
		return se.code
	}
	c, _ := classify(err)
	return c
}

func redact(text, to string) string {
	addr := to
	if a, err := mail.ParseAddress(to); err == nil {
		addr = a.Address
	}
	if addr == "" {
		return text
	}
	re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(addr))
	return re.ReplaceAllLiteralString(text, "[recipient]")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "localhost"
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
