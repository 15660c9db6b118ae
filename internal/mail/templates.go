package mail

import (
	"html/template"
	"net/url"
	"strings"
)

// Subjects of the messages built here; tests and the outbox refer to them.
const (
	SubjectPasswordReset     = "Password reset on CVImprover"
	SubjectEmailVerification = "Confirm your e-mail address on CVImprover"
)

// PasswordResetLink is FRONTEND_URL/reset-password/<uid>/<token>/, the page of
// the web client that posts uid and token to /auth/password/reset/confirm/.
// frontendURL is the normalised FRONTEND_URL (with scheme); a trailing slash
// is tolerated. uid and token are path-escaped.
func PasswordResetLink(frontendURL, uid, token string) string {
	return link(frontendURL, "reset-password", uid, token)
}

// EmailVerificationLink is FRONTEND_URL/verify-email/<key>/, the page of the
// web client that posts key to /auth/registration/verify-email/.
func EmailVerificationLink(frontendURL, key string) string {
	return link(frontendURL, "verify-email", key)
}

// PasswordReset builds the password-reset e-mail. To is left for the caller.
func PasswordReset(frontendURL, uid, token, username string) Message {
	href := PasswordResetLink(frontendURL, uid, token)
	text := greeting(username) + "\n\n" +
		"You are receiving this e-mail because you, or someone else, asked to reset the password of your CVImprover account.\n" +
		"Open the link below to choose a new password:\n\n" +
		href + "\n\n" +
		"If you did not ask for this, ignore this e-mail: your password stays unchanged.\n\n" +
		"-- \nCVImprover\n"
	return Message{
		Subject: SubjectPasswordReset,
		Text:    text,
		HTML:    render(passwordResetHTML, username, href),
	}
}

// EmailVerification builds the e-mail that confirms an address. To is left
// for the caller.
func EmailVerification(frontendURL, key, username string) Message {
	href := EmailVerificationLink(frontendURL, key)
	text := greeting(username) + "\n\n" +
		"You are receiving this e-mail because this address was given for a CVImprover account.\n" +
		"Open the link below to confirm that it is yours:\n\n" +
		href + "\n\n" +
		"If you did not create an account, ignore this e-mail.\n\n" +
		"-- \nCVImprover\n"
	return Message{
		Subject: SubjectEmailVerification,
		Text:    text,
		HTML:    render(emailVerificationHTML, username, href),
	}
}

func link(base string, segments ...string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(base, "/"))
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	b.WriteByte('/')
	return b.String()
}

func greeting(username string) string {
	if username = oneLine(username); username == "" {
		return "Hello,"
	}
	return "Hello " + username + ","
}

// The layout is deliberately plain: inline styles only (mail clients drop
// <style> and external CSS), and the link repeated as text for clients that
// do not render buttons.
const htmlLayout = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{template "subject" .}}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; color: #222; line-height: 1.5;">
<p>{{if .Username}}Hello {{.Username}},{{else}}Hello,{{end}}</p>
{{template "body" .}}
<p style="font-size: 13px; color: #555;">If the button does not work, copy this link into your browser:<br><a href="{{.Link}}">{{.Link}}</a></p>
<p>CVImprover</p>
</body>
</html>
`

var (
	passwordResetHTML = template.Must(template.Must(template.New("layout").Parse(htmlLayout)).Parse(
		`{{define "subject"}}` + SubjectPasswordReset + `{{end}}` +
			`{{define "body"}}<p>You are receiving this e-mail because you, or someone else, asked to reset the password of your CVImprover account.</p>
<p><a href="{{.Link}}" style="display: inline-block; padding: 10px 18px; background: #2563eb; color: #fff; text-decoration: none; border-radius: 4px;">Choose a new password</a></p>
<p>If you did not ask for this, ignore this e-mail: your password stays unchanged.</p>{{end}}`))

	emailVerificationHTML = template.Must(template.Must(template.New("layout").Parse(htmlLayout)).Parse(
		`{{define "subject"}}` + SubjectEmailVerification + `{{end}}` +
			`{{define "body"}}<p>You are receiving this e-mail because this address was given for a CVImprover account.</p>
<p><a href="{{.Link}}" style="display: inline-block; padding: 10px 18px; background: #2563eb; color: #fff; text-decoration: none; border-radius: 4px;">Confirm my e-mail address</a></p>
<p>If you did not create an account, ignore this e-mail.</p>{{end}}`))
)

func render(t *template.Template, username, href string) string {
	var b strings.Builder
	// The templates are fixed and the data are two strings: Execute cannot fail.
	if err := t.Execute(&b, struct{ Username, Link string }{oneLine(username), href}); err != nil {
		panic("mail: template: " + err.Error())
	}
	return b.String()
}
