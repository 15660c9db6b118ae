package cv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cvimprover/cvimprover/internal/ai"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/cache"
	"github.com/cvimprover/cvimprover/internal/config"
	"github.com/cvimprover/cvimprover/internal/field"
	"github.com/cvimprover/cvimprover/internal/files"
	"github.com/cvimprover/cvimprover/internal/pdf"
	"github.com/cvimprover/cvimprover/internal/sanitize"
)

// Enqueuer puts jobs on the queue, inside a transaction or not.
type Enqueuer interface {
	EnqueueExtract(ctx context.Context, tx TxHandle, questionnaireID int64, key string) error
	EnqueueGenerate(ctx context.Context, tx TxHandle, aiResponseID int64) error
}

// Service is the CV service.
type Service struct {
	Cfg      *config.Config
	DB       CVStore
	Cache    cache.Cache
	Jobs     Enqueuer
	Files    files.Store
	AI       ai.Provider
	Quota    Quota
	Logger   *slog.Logger
	Metrics  Metrics
	Now      func() time.Time
	URLTTL   time.Duration
	PDFLimit pdf.Limits
	// PlanOf names a user's plan (for quota refunds made by jobs).
	PlanOf func(ctx context.Context, userID int64) string
}

// Metrics receives LLM measurements (nil: none).
type Metrics interface {
	LLM(provider, outcome string, d time.Duration, promptTokens, completionTokens int)
	Cache(result string)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Messages of REFERENCE §8.1 and CONTRACT §6.
const (
	MsgNotFoundQ       = "No CVQuestionnaire matches the given query."
	MsgNotFoundA       = "No AIResponse matches the given query."
	MsgTooLargeCV      = "CV file is too large. Please upload a file smaller than 10MB."
	MsgEmptyFile       = "The submitted file is empty."
	MsgNotAFile        = "The submitted data was not a file. Check the encoding type on the form."
	MsgUnsupportedFile = "Unsupported file type. Please upload a PDF or DOCX file."
	MaxUpload          = 10 * 1024 * 1024
)

// Upload is a file part of a request.
type Upload struct {
	Name    string
	Size    int64
	Content interface {
		io.Reader
		io.ReaderAt
		io.Seeker
	}
}

// ResumeInput is the resume field: a file, a JSON null (clear), or
// something else (an error).
type ResumeInput struct {
	File    *Upload
	Clear   bool
	NotFile bool
	Set     bool
}

// QuestionnaireInput is the body of create/update.
type QuestionnaireInput struct {
	Position, Industry, ExperienceLevel, CompanySize, Location, ApplicationTimeline, JobDescription field.Str
	Resume                                                                                          ResumeInput
}

type errs struct {
	m     map[string][]string
	order []string
}

func (e *errs) add(f string, msgs ...string) {
	if len(msgs) == 0 {
		return
	}
	if e.m == nil {
		e.m = map[string][]string{}
	}
	if _, ok := e.m[f]; !ok {
		e.order = append(e.order, f)
	}
	e.m[f] = append(e.m[f], msgs...)
}

func (e *errs) err() error {
	if len(e.m) == 0 {
		return nil
	}
	return &apperr.Error{Kind: apperr.Invalid, Fields: e.m, FieldOrder: e.order}
}

// cleanText trims, checks the length with the custom text of CONTRACT §6,
// then sanitises.
func cleanText(e *errs, name, label string, v field.Str, max int, required, nullable bool) (*string, bool) {
	switch {
	case !v.Set:
		if required {
			e.add(name, apperr.MsgRequired)
		}
		return nil, false
	case v.Invalid:
		e.add(name, "Not a valid string.")
		return nil, false
	case v.Null:
		if !nullable {
			e.add(name, apperr.MsgNull)
		}
		return nil, true
	}
	t := strings.TrimSpace(v.V)
	if t == "" {
		if required {
			e.add(name, apperr.MsgBlank)
			return nil, false
		}
		return nil, true
	}
	if utf8.RuneCountInString(t) > max {
		e.add(name, fmt.Sprintf("%s must be less than %d characters", label, max))
		return nil, false
	}
	clean := sanitize.Text(t)
	if clean == "" {
		if required {
			e.add(name, apperr.MsgBlank)
			return nil, false
		}
		return nil, true
	}
	return &clean, true
}

func choice(e *errs, name string, v field.Str, choices []string, required bool) (string, bool) {
	switch {
	case !v.Set:
		if required {
			e.add(name, apperr.MsgRequired)
		}
		return "", false
	case v.Null:
		e.add(name, apperr.MsgNull)
		return "", false
	case v.Invalid || !slices.Contains(choices, v.V):
		e.add(name, fmt.Sprintf("%q is not a valid choice.", v.V))
		return "", false
	}
	return v.V, true
}

// apply validates in onto q. partial is PATCH; on PUT (and create) the
// five required fields must be present; omitted optional fields are kept.
func apply(q *Questionnaire, in QuestionnaireInput, partial bool) error {
	var e errs
	req := !partial
	if v, ok := cleanText(&e, "position", "position", in.Position, 255, req || in.Position.Set, false); ok && v != nil {
		q.Position = *v
	}
	if v, ok := cleanText(&e, "industry", "industry", in.Industry, 255, req || in.Industry.Set, false); ok && v != nil {
		q.Industry = *v
	}
	if v, ok := choice(&e, "experience_level", in.ExperienceLevel, ExperienceLevels, req); ok {
		q.ExperienceLevel = v
	}
	if v, ok := choice(&e, "company_size", in.CompanySize, CompanySizes, req); ok {
		q.CompanySize = v
	}
	if v, ok := cleanText(&e, "location", "location", in.Location, 255, false, true); ok {
		q.Location = v
	}
	if v, ok := choice(&e, "application_timeline", in.ApplicationTimeline, ApplicationTimelines, req); ok {
		q.ApplicationTimeline = v
	}
	if v, ok := cleanText(&e, "job_description", "job description", in.JobDescription, 5000, false, true); ok {
		q.JobDescription = v
	}
	if in.Resume.Set {
		switch {
		case in.Resume.NotFile:
			e.add("resume", MsgNotAFile)
		case in.Resume.File != nil:
			f := in.Resume.File
			if n := utf8.RuneCountInString(f.Name); n > 100 {
				e.add("resume", fmt.Sprintf("Ensure this filename has at most 100 characters (it has %d).", n))
			} else if f.Size == 0 {
				e.add("resume", MsgEmptyFile)
			} else if f.Size > MaxUpload {
				e.add("resume", MsgTooLargeCV)
			} else if fileType(f) == "" {
				e.add("resume", MsgUnsupportedFile)
			}
		}
	}
	return e.err()
}

// fileType sniffs the upload's content (never its name).
func fileType(f *Upload) string {
	head := make([]byte, 8)
	n, _ := f.Content.ReadAt(head, 0)
	head = head[:n]
	if strings.HasPrefix(string(head), "%PDF") {
		return pdf.TypePDF
	}
	if strings.HasPrefix(string(head), "PK\x03\x04") {
		// A zip: DOCX only if it has word/document.xml.
		all := make([]byte, f.Size)
		if _, err := f.Content.ReadAt(all, 0); err != nil && err != io.EOF {
			return ""
		}
		if pdf.DetectType(all) == pdf.TypeDOCX {
			return pdf.TypeDOCX
		}
	}
	return ""
}

// ---- caching of questionnaire entities ----

const entityTTL = 10 * time.Minute

func qKey(id int64) string { return "q:v1:" + strconv.FormatInt(id, 10) }

func (s *Service) cacheOp(r string) {
	if s.Metrics != nil {
		s.Metrics.Cache(r)
	}
}

// readThrough reads an entity from the cache service, or loads it and —
// when keep allows — caches it for later readers. Readers only fill an
// absent key (SetNX); writers overwrite it after committing, so a slow
// reader cannot put an old row back over a new one.
func readThrough[T any](ctx context.Context, s *Service, key string, load func() (T, error), keep func(T) bool) (T, error) {
	if b, ok, err := s.Cache.Get(ctx, key); err == nil && ok {
		var v T
		if json.Unmarshal(b, &v) == nil {
			s.cacheOp("hit")
			return v, nil
		}
	}
	s.cacheOp("miss")
	v, err := load()
	if err != nil {
		return v, err
	}
	if keep(v) {
		if b, err := json.Marshal(v); err == nil {
			_, _ = s.Cache.SetNX(ctx, key, b, entityTTL)
		}
	}
	return v, nil
}

// Questionnaire reads one of the user's questionnaires through the cache.
func (s *Service) Questionnaire(ctx context.Context, userID, id int64) (*Questionnaire, error) {
	q, err := readThrough(ctx, s, qKey(id), func() (Questionnaire, error) {
		return s.DB.Questionnaire(ctx, s.DB.Handle(), id, userID)
	}, func(Questionnaire) bool { return true })
	if err != nil {
		return nil, notFound(err, MsgNotFoundQ)
	}
	if q.UserID != userID { // a cached copy of another user's questionnaire
		return nil, apperr.DetailErr(apperr.NotFound, MsgNotFoundQ)
	}
	return &q, nil
}

// refreshQ overwrites the cached entity after a committed write.
func (s *Service) refreshQ(ctx context.Context, id int64) {
	q, err := s.DB.QuestionnaireAny(ctx, id)
	if err != nil {
		_ = s.Cache.Delete(ctx, qKey(id))
		return
	}
	if b, err := json.Marshal(q); err == nil && s.Cache.Set(ctx, qKey(id), b, entityTTL) == nil {
		return
	}
	_ = s.Cache.Delete(ctx, qKey(id))
}
