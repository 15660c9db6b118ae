package cv

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/ai"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/field"
	"github.com/cvimprover/cvimprover/internal/match"
)

// Messages of REFERENCE §8.4–§8.7 (Appendix A).
const (
	MsgAIRequired     = "Both questionnaire ID and prompt are required."
	MsgPromptShort    = "Prompt must be at least 10 characters long."
	MsgPromptLong     = "prompt must be less than 5000 characters."
	MsgPromptNotText  = "Prompt must be a string."
	MsgQNotFound      = "Questionnaire not found or you do not have permission to access it."
	MsgCVUnreadable   = "Unable to read CV file. Please ensure it is a valid PDF format."
	MsgResponseTooBig = "Validation error: {'response_text': ['response text must be less than 10000 characters']}"
	MsgSaveFailed     = "Failed to save AI response. Please try again."
	MaxResponseChars  = 10000
)

// SystemPrompt is the original's system message, verbatim (REFERENCE §8.5).
const SystemPrompt = "You are a professional CV optimization assistant. Improve and rewrite the following CV to maximize hiring chances, keeping all details accurate:"

// AIInput is the body of POST /cv/ai-responses/.
type AIInput struct {
	Questionnaire field.Str // numbers arrive as their text
	Prompt        field.Str
}

func orNone(s *string) string {
	if s == nil {
		return "None"
	}
	return *s
}

// BuildPrompt is the user message of REFERENCE §8.5, verbatim.
func BuildPrompt(u *accounts.User, q *Questionnaire, cvText, prompt string) string {
	lines := []string{
		"Full Name: " + strings.TrimSpace(u.FirstName+" "+u.LastName),
		"Username: " + u.Username,
		"Email: " + u.Email,
		"Date of Birth: " + orNone(u.DateOfBirth),
		"Position: " + q.Position,
		"Industry: " + q.Industry,
		"Experience Level: " + q.ExperienceLevel,
		"Company Size: " + q.CompanySize,
		"Location: " + orNone(q.Location),
		"Application Timeline: " + q.ApplicationTimeline,
		"Job Description: " + orNone(q.JobDescription),
		"",
		"CV Text: " + cvText,
		"",
		prompt,
	}
	return strings.Join(lines, "\n")
}

func legacy(k apperr.Kind, msg string) error { return apperr.LegacyErr(k, msg) }

// providerConfigured is false when the chosen provider has no key: the
// original answers 503 "currently unavailable" before calling anything.
func (s *Service) providerConfigured() bool {
	switch s.AI.Name() {
	case ai.ProviderOpenAI:
		return s.Cfg.OpenAIAPIKey != ""
	case ai.ProviderAnthropic:
		return s.Cfg.AnthropicAPIKey != ""
	}
	return true
}

// StartGeneration runs the checks of REFERENCE §8.4 in the original's order,
// takes one unit of the caller's ai_responses quota, stores a pending AI
// response and enqueues its job in the same transaction.
func (s *Service) StartGeneration(ctx context.Context, u *accounts.User, in AIInput) (*AIResponse, time.Time, error) {
	plan := u.PlanOrFree()
	var zero time.Time
	if s.Quota != nil {
		if err := s.Quota.Precheck(ctx, u.ID, plan); err != nil {
			return nil, zero, err
		}
	}
	if !in.Questionnaire.Present() || in.Questionnaire.V == "" || in.Questionnaire.V == "0" ||
		!in.Prompt.Set || in.Prompt.Null || (!in.Prompt.Invalid && in.Prompt.V == "") {
		return nil, zero, legacy(apperr.Invalid, MsgAIRequired)
	}
	if in.Prompt.Invalid {
		return nil, zero, legacy(apperr.Invalid, MsgPromptNotText)
	}
	if utf8.RuneCountInString(strings.TrimSpace(in.Prompt.V)) < 10 {
		return nil, zero, legacy(apperr.Invalid, MsgPromptShort)
	}
	if utf8.RuneCountInString(in.Prompt.V) > 5000 {
		return nil, zero, legacy(apperr.Invalid, MsgPromptLong)
	}
	qid, err := strconv.ParseInt(strings.TrimSpace(in.Questionnaire.V), 10, 64)
	if err != nil || qid <= 0 {
		return nil, zero, legacy(apperr.NotFound, MsgQNotFound)
	}
	q, err := s.DB.Questionnaire(ctx, s.DB.Handle(), qid, u.ID)
	if err != nil {
		if errors.Is(notFound(err, ""), err) {
			return nil, zero, err
		}
		return nil, zero, legacy(apperr.NotFound, MsgQNotFound)
	}
	cvText := ""
	if q.Resume != nil {
		if q.ResumeStatus == ResumePending {
			if err := s.ExtractResume(ctx, q.ID, *q.Resume); err != nil {
				return nil, zero, err
			}
			if q, err = s.DB.Questionnaire(ctx, s.DB.Handle(), qid, u.ID); err != nil {
				return nil, zero, legacy(apperr.NotFound, MsgQNotFound)
			}
		}
		if q.ResumeStatus == ResumeFailed {
			return nil, zero, legacy(apperr.Invalid, MsgCVUnreadable)
		}
		if q.ResumeText != nil {
			cvText = *q.ResumeText
		}
	}
	prompt := BuildPrompt(u, &q, cvText, in.Prompt.V)
	if !s.providerConfigured() {
		return nil, zero, legacy(apperr.Unavailable, ai.NotConfigured.Message())
	}
	var takenAt time.Time
	if s.Quota != nil {
		if takenAt, err = s.Quota.Take(ctx, u.ID, plan); err != nil {
			return nil, zero, err
		}
	}
	a := AIResponse{QuestionnaireID: q.ID, UserID: u.ID, CreatedAt: s.now(), Status: StatusPending,
		Provider: s.AI.Name(), Model: s.AI.Model(), Prompt: prompt}
	err = s.DB.InTx(ctx, func(tx *sql.Tx) error {
		id, err := s.DB.CreateAIResponse(ctx, tx, a)
		if err != nil {
			return err
		}
		a.ID = id
		return s.Jobs.EnqueueGenerate(ctx, tx, id)
	})
	if err != nil {
		if s.Quota != nil {
			s.Quota.Refund(ctx, u.ID, plan, takenAt)
		}
		return nil, zero, err
	}
	s.setState(ctx, a.ID, genState{Status: StatusPending})
	return &a, takenAt, nil
}

// genState is the running state of a generation, kept in the cache service
// so that any instance can stream it while the job runs on another.
type genState struct {
	Status string `json:"status"`
	Text   string `json:"text,omitempty"`
	Error  string `json:"error,omitempty"`
}

func stateKey(id int64) string { return "air:state:" + strconv.FormatInt(id, 10) }

func (s *Service) setState(ctx context.Context, id int64, st genState) {
	if b, err := json.Marshal(st); err == nil {
		_ = s.Cache.Set(ctx, stateKey(id), b, 30*time.Minute)
	}
}

// State reads a generation's live state: the cache service while it runs,
// the database when the cache has nothing (finished long ago, or the cache
// was lost).
func (s *Service) State(ctx context.Context, id int64) (status, text, errMsg string, err error) {
	if b, ok, err := s.Cache.Get(ctx, stateKey(id)); err == nil && ok {
		var st genState
		if json.Unmarshal(b, &st) == nil {
			return st.Status, st.Text, st.Error, nil
		}
	}
	a, err := s.DB.AIResponseAny(ctx, id)
	if err != nil {
		return "", "", "", err
	}
	e := ""
	if a.Error != nil {
		e = *a.Error
	}
	return a.Status, a.ResponseText, e, nil
}

// WaitGeneration waits until the generation finishes or wait passes, then
// returns the stored row.
func (s *Service) WaitGeneration(ctx context.Context, id int64, wait time.Duration) (*AIResponse, error) {
	deadline := time.Now().Add(wait)
	delay := 20 * time.Millisecond
	for {
		st, _, _, err := s.State(ctx, id)
		if err == nil && (st == StatusSucceeded || st == StatusFailed) {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 250*time.Millisecond {
			delay = delay * 3 / 2
		}
	}
	a, err := s.DB.AIResponseAny(ctx, id)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// GenerationError turns a failed generation into the original's answer.
func GenerationError(a *AIResponse) error {
	msg := ai.Unexpected.Message()
	if a.Error != nil {
		msg = *a.Error
	}
	status := 500
	if a.ErrorStatus != nil {
		status = *a.ErrorStatus
	}
	kind := map[int]apperr.Kind{400: apperr.Invalid, 429: apperr.TooMany, 502: apperr.Upstream, 503: apperr.Unavailable}[status]
	if kind == 0 && status != 400 {
		kind = apperr.Internal
	}
	return legacy(kind, msg)
}

type offlineKey struct{}

// OfflineReport is the offline provider's generator: the deterministic
// Markdown report built from the match analysis of the job's questionnaire.
func OfflineReport(ctx context.Context, _ ai.Request) (string, error) {
	q, ok := ctx.Value(offlineKey{}).(*Questionnaire)
	if !ok {
		return "", errors.New("offline report without a questionnaire")
	}
	in := matchInput(q)
	return match.OfflineReport(in, match.Analyze(in)), nil
}

// RunGeneration is the job: call the provider (streaming its text into the
// cache service), then store the result exactly once. A job retried after
// its result was stored does nothing. Provider failures are stored at once
// (the provider already retried transient ones, and a user is waiting);
// the queue's own retries cover crashes and database errors.
func (s *Service) RunGeneration(ctx context.Context, id int64) error {
	a, err := s.DB.AIResponseAny(ctx, id)
	if err != nil {
		if errors.Is(notFound(err, ""), err) {
			return err
		}
		return nil // deleted with its questionnaire
	}
	if a.Status == StatusSucceeded || a.Status == StatusFailed {
		return nil
	}
	if ok, err := s.DB.MarkAIRunning(ctx, id); err != nil || !ok {
		return err
	}
	s.setState(ctx, id, genState{Status: StatusRunning})
	q, err := s.DB.QuestionnaireAny(ctx, a.QuestionnaireID)
	if err != nil {
		return nil
	}
	var mu sync.Mutex
	var partial strings.Builder
	lastFlush := time.Now()
	onDelta := func(d string) {
		mu.Lock()
		defer mu.Unlock()
		partial.WriteString(d)
		if time.Since(lastFlush) > 150*time.Millisecond {
			lastFlush = time.Now()
			s.setState(ctx, id, genState{Status: StatusRunning, Text: partial.String()})
		}
	}
	gctx := context.WithValue(ctx, offlineKey{}, &q)
	start := time.Now()
	var delta func(string)
	if s.Cfg.AIStream || s.AI.Name() == ai.ProviderOffline {
		delta = onDelta
	}
	res, err := s.AI.Generate(gctx, ai.NewRequest(SystemPrompt, a.Prompt), delta)
	outcome := "ok"
	if err != nil {
		e := ai.AsError(err)
		outcome = e.Kind.String()
		if s.Metrics != nil {
			s.Metrics.LLM(s.AI.Name(), outcome, time.Since(start), 0, 0)
		}
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: the job is retried, nothing stored
		}
		s.Logger.Warn("generation failed", "ai_response_id", id, "kind", e.Kind.String(), "err", e.Error())
		return s.fail(ctx, &a, e.Message(), e.HTTPStatus())
	}
	if s.Metrics != nil {
		s.Metrics.LLM(s.AI.Name(), outcome, time.Since(start), res.PromptTokens, res.CompletionTokens)
	}
	if utf8.RuneCountInString(res.Text) > MaxResponseChars {
		// Refused whole, never saved half-way (CONTRACT §6).
		return s.fail(ctx, &a, MsgResponseTooBig, 400)
	}
	m := buildMatch(&q, res.Text, s.AI.Name() == ai.ProviderOffline)
	if _, err := s.DB.FinishAI(ctx, id, StatusSucceeded, res.Text, nil, nil, m); err != nil {
		return err
	}
	s.setState(ctx, id, genState{Status: StatusSucceeded, Text: res.Text})
	_ = s.Cache.Delete(ctx, aKey(id))
	return nil
}

func (s *Service) fail(ctx context.Context, a *AIResponse, msg string, status int) error {
	if _, err := s.DB.FinishAI(ctx, a.ID, StatusFailed, "", &msg, &status, nil); err != nil {
		return err
	}
	s.setState(ctx, a.ID, genState{Status: StatusFailed, Error: msg})
	_ = s.Cache.Delete(ctx, aKey(a.ID))
	if s.Quota != nil {
		// An upstream failure gives the unit back (CONTRACT §5).
		s.Quota.Refund(ctx, a.UserID, s.planOf(ctx, a.UserID), a.CreatedAt)
	}
	return nil
}

// PlanOf tells the service a user's plan name (for refunds made by jobs).
func (s *Service) planOf(ctx context.Context, userID int64) string {
	if s.PlanOf != nil {
		return s.PlanOf(ctx, userID)
	}
	return "Free"
}

func aKey(id int64) string { return "air:v1:" + strconv.FormatInt(id, 10) }

// AIResponse reads one of the user's generations through the cache (only
// finished generations are cached; running ones change).
func (s *Service) AIResponse(ctx context.Context, userID, id int64) (*AIResponse, error) {
	a, err := readThrough(ctx, s, aKey(id), func() (AIResponse, error) { return s.DB.AIResponse(ctx, id, userID) },
		func(a AIResponse) bool { return a.Status == StatusSucceeded || a.Status == StatusFailed })
	if err != nil {
		return nil, notFound(err, MsgNotFoundA)
	}
	if a.UserID != userID {
		return nil, apperr.DetailErr(apperr.NotFound, MsgNotFoundA)
	}
	return &a, nil
}

// ListAIResponses returns a page of the user's generations, newest first.
func (s *Service) ListAIResponses(ctx context.Context, userID int64, p Page) ([]AIResponse, int, error) {
	list, err := s.DB.ListAIResponses(ctx, userID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	total := len(list)
	if p.Limit > 0 {
		if total, err = s.DB.CountAIResponses(ctx, userID); err != nil {
			return nil, 0, err
		}
	}
	return list, total, nil
}
