// Package mail sends the service's transactional e-mail (password reset,
// e-mail verification).
//
// Two senders exist: SMTP (when SMTP_URL is set) and Log, the no-SMTP default
// that only notes that a message was kept in the outbox. Both implement Sender,
// which the e-mail job handler calls; retries belong to the job queue, so a
// Sender makes exactly one attempt and reports through Permanent whether
// another attempt can help.
//
// Nothing in this package writes a recipient address or a message body to a
// log or an error text: bodies carry password-reset tokens and verification
// keys, and addresses are personal data.
package mail

import (
	"context"
	"log/slog"
	"sync"
)

// Message is one e-mail to one recipient. Text is the plain-text part; HTML,
// when set, is sent as its multipart/alternative sibling.
type Message struct {
	To      string // an RFC 5322 address, with or without display name
	Subject string
	Text    string
	HTML    string // optional
}

// Sender delivers a Message. Implementations make one attempt; callers use
// Permanent on the returned error to decide whether to retry.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

type logSender struct{ log *slog.Logger }

// NewLog returns the Sender used when no SMTP server is configured: the
// message itself is stored in the outbox table by the caller, so all that is
// left to do is tell the operator. Only the subject is logged.
func NewLog(logger *slog.Logger) Sender {
	if logger == nil {
		logger = slog.Default()
	}
	return logSender{log: logger}
}

func (l logSender) Send(ctx context.Context, m Message) error {
	l.log.InfoContext(ctx, "e-mail not sent (SMTP_URL is not set); message kept in the outbox",
		slog.String("subject", m.Subject))
	return nil
}

// Recorder is an in-memory Sender for tests of packages that send mail.
// The zero value is ready to use and safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	msgs []Message
	// Err, when set, is returned by Send instead of recording the message.
	Err error
}

// Send records m (or returns r.Err).
func (r *Recorder) Send(_ context.Context, m Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Err != nil {
		return r.Err
	}
	r.msgs = append(r.msgs, m)
	return nil
}

// Messages returns a copy of the messages recorded so far, oldest first.
func (r *Recorder) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.msgs...)
}
