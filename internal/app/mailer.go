package app

import (
	"context"

	"github.com/cvimprover/cvimprover/internal/jobs"
	"github.com/cvimprover/cvimprover/internal/mail"
)

// mailAdapter lets the e-mail job use a mail.Sender.
type mailAdapter struct{ s mail.Sender }

func (m mailAdapter) Send(ctx context.Context, to, subject, text string) error {
	return m.s.Send(ctx, mail.Message{To: to, Subject: subject, Text: text})
}

func (mailAdapter) Permanent(err error) bool { return mail.Permanent(err) }

// mailer delivers through SMTP_URL, or only keeps mail in the outbox
// (logging the subject, never the recipient or body) when it is unset.
func (a *App) mailer() (jobs.Mailer, error) {
	if a.Config.SMTPURL == "" {
		return mailAdapter{mail.NewLog(a.Logger)}, nil
	}
	s, err := mail.NewSMTP(a.Config.SMTPURL, a.Config.EmailFrom)
	if err != nil {
		return nil, err
	}
	return mailAdapter{s}, nil
}
