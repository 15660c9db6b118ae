package cv

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/cvimprover/cvimprover/internal/files"
	"github.com/cvimprover/cvimprover/internal/pdf"
)

// storeUpload writes an accepted upload to the file store and returns its
// key. The name keeps the user's (sanitised) file name; a random segment
// makes the key unguessable and collision-free.
func (s *Service) storeUpload(ctx context.Context, userID int64, f *Upload) (string, string, error) {
	kind := fileType(f)
	name := files.SanitiseName(f.Name)
	if kind == pdf.TypePDF && !strings.HasSuffix(strings.ToLower(name), ".pdf") {
		name += ".pdf"
	}
	if kind == pdf.TypeDOCX && !strings.HasSuffix(strings.ToLower(name), ".docx") {
		name += ".docx"
	}
	key, err := files.Key("resumes", strconv.FormatInt(userID, 10), files.RandomSegment(), name)
	if err != nil {
		return "", "", err
	}
	if _, err := f.Content.Seek(0, 0); err != nil {
		return "", "", err
	}
	ct := "application/pdf"
	if kind == pdf.TypeDOCX {
		ct = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	}
	if err := s.Files.Put(ctx, key, f.Content, f.Size, ct); err != nil {
		return "", "", err
	}
	return key, ct, nil
}

// deleteFiles removes blobs nothing refers to any more (best effort; the
// periodic orphan sweep catches what fails here).
func (s *Service) deleteFiles(ctx context.Context, keys ...string) {
	for _, k := range keys {
		if ref, err := s.DB.FileReferenced(ctx, k); err != nil || ref {
			continue
		}
		if err := s.Files.Delete(ctx, k); err != nil && !errors.Is(err, files.ErrNotFound) {
			s.Logger.Warn("deleting file failed", "err", err)
			continue
		}
		_ = s.DB.ForgetFile(ctx, k)
	}
}

// ExtractResume reads the text of a questionnaire's resume once and stores
// it (idempotent: a resume already done is left alone). Hostile files end
// in a stored failure, never a crash or a hang.
func (s *Service) ExtractResume(ctx context.Context, questionnaireID int64, key string) error {
	q, err := s.DB.QuestionnaireAny(ctx, questionnaireID)
	if err != nil || q.Resume == nil || *q.Resume != key {
		return nil // deleted or replaced meanwhile: nothing to do
	}
	if q.ResumeStatus == ResumeDone || q.ResumeStatus == ResumeFailed {
		return nil
	}
	text, status, errText := s.extract(ctx, key)
	if _, err := s.DB.SetResumeText(ctx, questionnaireID, key, text, status, errText); err != nil {
		return err
	}
	s.refreshQ(ctx, questionnaireID)
	return nil
}

func (s *Service) extract(ctx context.Context, key string) (text *string, status string, errText *string) {
	fail := func(msg string) (*string, string, *string) {
		return nil, ResumeFailed, &msg
	}
	rc, info, err := s.Files.Open(ctx, key)
	if err != nil {
		return fail("file unavailable")
	}
	defer rc.Close()
	if info.Size > pdf.MaxFileSize {
		return fail("too large")
	}
	buf := make([]byte, info.Size)
	n, err := readFull(rc, buf)
	if err != nil {
		return fail("file unreadable")
	}
	buf = buf[:n]
	lim := s.PDFLimit
	var res pdf.Result
	switch pdf.DetectType(buf) {
	case pdf.TypePDF:
		res, err = pdf.Extract(ctx, bytesReaderAt(buf), int64(len(buf)), lim)
	case pdf.TypeDOCX:
		res, err = pdf.ExtractDOCX(bytesReaderAt(buf), int64(len(buf)), lim)
	default:
		return fail("unsupported type")
	}
	switch {
	case errors.Is(err, pdf.ErrEncrypted):
		return fail("encrypted")
	case errors.Is(err, pdf.ErrTimeout):
		t := pdf.TextNoText
		msg := "timeout"
		return &t, ResumeDone, &msg
	case err != nil:
		return fail("invalid")
	}
	t := res.Text
	if res.Empty {
		t = pdf.TextEmpty
	} else if res.NoText || strings.TrimSpace(t) == "" {
		t = pdf.TextNoText
	}
	return &t, ResumeDone, nil
}
