package cv

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/files"
	"github.com/cvimprover/cvimprover/internal/pdf"
)

// MsgNotReady answers generate-pdf for a generation without text.
const MsgNotReady = "The AI response has no text to render yet."

// RenderPDF renders a generation's Markdown to PDF, stores it on the AI
// response (never on the questionnaire's resume: REFERENCE §14 item 27) and
// returns its file key. Rendering takes tens of milliseconds, so it runs in
// the request rather than through the queue.
func (s *Service) RenderPDF(ctx context.Context, userID, id int64) (string, error) {
	a, err := s.DB.AIResponse(ctx, id, userID)
	if err != nil {
		return "", notFound(err, MsgNotFoundA)
	}
	if a.Status != StatusSucceeded || a.ResponseText == "" {
		return "", legacy(apperr.Invalid, MsgNotReady)
	}
	b, err := pdf.RenderMarkdown(a.ResponseText, pdf.RenderOptions{Title: "CV", Date: a.CreatedAt})
	if err != nil {
		return "", fmt.Errorf("rendering AI response %d: %w", id, err)
	}
	key, err := files.Key("generated", strconv.FormatInt(userID, 10), files.RandomSegment(),
		"ai_cv_"+strconv.FormatInt(a.QuestionnaireID, 10)+".pdf")
	if err != nil {
		return "", err
	}
	if err := s.Files.Put(ctx, key, bytes.NewReader(b), int64(len(b)), "application/pdf"); err != nil {
		return "", err
	}
	if err := s.DB.RegisterFile(ctx, s.DB.Handle(), key, userID, "generated_pdf", "application/pdf", int64(len(b))); err != nil {
		_ = s.Files.Delete(ctx, key)
		return "", err
	}
	prev, err := s.DB.SetAIPDF(ctx, id, key)
	if err != nil {
		_ = s.Files.Delete(ctx, key)
		return "", err
	}
	_ = s.Cache.Delete(ctx, aKey(id))
	if prev != nil {
		s.deleteFiles(ctx, *prev)
	}
	return key, nil
}
