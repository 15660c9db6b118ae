package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/cv"
	"github.com/cvimprover/cvimprover/internal/field"
	"github.com/cvimprover/cvimprover/internal/ratelimit"
)

func (s *Server) cvRoutes(r chi.Router) {
	r.Get("/cv/questionnaire/", s.listQuestionnaires)
	r.Post("/cv/questionnaire/", s.createQuestionnaire)
	r.Get("/cv/questionnaire/{id}/", s.getQuestionnaire)
	r.Put("/cv/questionnaire/{id}/", s.updateQuestionnaire(false))
	r.Patch("/cv/questionnaire/{id}/", s.updateQuestionnaire(true))
	r.Delete("/cv/questionnaire/{id}/", s.deleteQuestionnaire)
	r.Get("/cv/questionnaire/{id}/match/", s.questionnaireMatch)
	r.Get("/cv/ai-responses/", s.listAIResponses)
	r.Post("/cv/ai-responses/", s.createAIResponse)
	r.Get("/cv/ai-responses/{id}/", s.getAIResponse)
	r.Post("/cv/ai-responses/{id}/generate-pdf/", s.generatePDF)
	r.Get("/cv/ai-responses/{id}/events/", s.aiEvents)
	r.Get("/files/*", s.serveFile)
}

// pathID parses {id}; anything but a positive integer is DRF's plain 404.
func (s *Server) pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		writeJSON(w, http.StatusNotFound, detail{apperr.MsgNotFound})
		return 0, false
	}
	return id, true
}

// userAndID is requireUser and pathID together, for detail routes.
func (s *Server) userAndID(w http.ResponseWriter, r *http.Request) (*accounts.User, int64, bool) {
	u := s.requireUser(w, r)
	if u == nil {
		return nil, 0, false
	}
	id, ok := s.pathID(w, r)
	return u, id, ok
}

// questionnaireView is REFERENCE §8.1's object in its field order.
type questionnaireView struct {
	ID                  int64   `json:"id"`
	JobDescription      *string `json:"job_description"`
	Position            string  `json:"position"`
	Industry            string  `json:"industry"`
	Location            *string `json:"location"`
	ExperienceLevel     string  `json:"experience_level"`
	CompanySize         string  `json:"company_size"`
	ApplicationTimeline string  `json:"application_timeline"`
	SubmittedAt         Time    `json:"submitted_at"`
	Resume              *string `json:"resume"`
	User                int64   `json:"user"`
}

// fileURL is an absolute, signed, expiring URL of a stored file.
func (s *Server) fileURL(r *http.Request, key string) *string {
	u, err := s.CV.Files.URL(r.Context(), key, s.fileTTL(), s.absoluteBase(r))
	if err != nil {
		s.log(r).Warn("file URL", "err", err)
		return nil
	}
	return &u
}

func (s *Server) fileTTL() time.Duration {
	if s.CV.URLTTL > 0 {
		return s.CV.URLTTL
	}
	return time.Hour
}

func (s *Server) qView(r *http.Request, q *cv.Questionnaire) questionnaireView {
	v := questionnaireView{ID: q.ID, JobDescription: q.JobDescription, Position: q.Position, Industry: q.Industry,
		Location: q.Location, ExperienceLevel: q.ExperienceLevel, CompanySize: q.CompanySize,
		ApplicationTimeline: q.ApplicationTimeline, SubmittedAt: Time(q.SubmittedAt), User: q.UserID}
	if q.Resume != nil {
		v.Resume = s.fileURL(r, *q.Resume)
	}
	return v
}

// page reads ?page= and ?page_size= (CONTRACT §2): without them lists stay
// bare arrays.
type pageReq struct {
	on         bool
	page, size int
}

func parsePage(r *http.Request) (pageReq, error) {
	q := r.URL.Query()
	if !q.Has("page") && !q.Has("page_size") {
		return pageReq{}, nil
	}
	p := pageReq{on: true, page: 1, size: 10}
	if v := q.Get("page_size"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			p.size = min(n, 100)
		}
	}
	if v := q.Get("page"); v != "" && v != "last" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, apperr.DetailErr(apperr.NotFound, "Invalid page.")
		}
		p.page = n
	}
	return p, nil
}

func (p pageReq) slice() cv.Page {
	if !p.on {
		return cv.Page{}
	}
	return cv.Page{Limit: p.size, Offset: (p.page - 1) * p.size}
}

type pageBody struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  any     `json:"results"`
}

func (s *Server) writeList(w http.ResponseWriter, r *http.Request, p pageReq, total int, items any) {
	if !p.on {
		writeJSON(w, http.StatusOK, items)
		return
	}
	if p.page > 1 && (p.page-1)*p.size >= total {
		writeJSON(w, http.StatusNotFound, detail{"Invalid page."})
		return
	}
	link := func(page int) *string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(page))
		q.Set("page_size", strconv.Itoa(p.size))
		u.RawQuery = q.Encode()
		v := s.absoluteBase(r) + u.RequestURI()
		return &v
	}
	b := pageBody{Count: total, Results: items}
	if p.page*p.size < total {
		b.Next = link(p.page + 1)
	}
	if p.page > 1 {
		b.Previous = link(p.page - 1)
	}
	writeJSON(w, http.StatusOK, b)
}

// serveList answers one of the caller's lists: a bare array, or a page
// when ?page= or ?page_size= is given (CONTRACT §2).
func serveList[T, V any](s *Server, w http.ResponseWriter, r *http.Request,
	list func(ctx context.Context, userID int64, p cv.Page) ([]T, int, error), view func(*T) V) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	p, err := parsePage(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items, total, err := list(r.Context(), u.ID, p.slice())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	views := make([]V, len(items))
	for i := range items {
		views[i] = view(&items[i])
	}
	s.writeList(w, r, p, total, views)
}

func (s *Server) listQuestionnaires(w http.ResponseWriter, r *http.Request) {
	serveList(s, w, r, s.CV.ListQuestionnaires, func(q *cv.Questionnaire) questionnaireView { return s.qView(r, q) })
}

// questionnaireInput reads the body (JSON, form or multipart).
func questionnaireInput(in *input) (cv.QuestionnaireInput, error) {
	errs := map[string][]string{}
	str := func(name string) field.Str {
		v := in.str(name, errs)
		if len(errs[name]) > 0 {
			delete(errs, name)
			v = field.Str{Set: true, Invalid: true}
		}
		return v
	}
	qi := cv.QuestionnaireInput{Position: str("position"), Industry: str("industry"),
		ExperienceLevel: str("experience_level"), CompanySize: str("company_size"), Location: str("location"),
		ApplicationTimeline: str("application_timeline"), JobDescription: str("job_description")}
	if fhs := in.files["resume"]; len(fhs) > 0 {
		fh := fhs[len(fhs)-1]
		f, err := fh.Open()
		if err != nil {
			return qi, err
		}
		qi.Resume = cv.ResumeInput{Set: true, File: &cv.Upload{Name: fh.Filename, Size: fh.Size, Content: f}}
	} else if v, ok := in.vals["resume"]; ok {
		switch x := v.(type) {
		case nil:
			qi.Resume = cv.ResumeInput{Set: true, Clear: true}
		case string:
			if x != "" { // an empty multipart field is "no file chosen"
				qi.Resume = cv.ResumeInput{Set: true, NotFile: true}
			}
		default:
			qi.Resume = cv.ResumeInput{Set: true, NotFile: true}
		}
	}
	return qi, nil
}

func (s *Server) createQuestionnaire(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	s.saveQuestionnaire(w, r, u, http.StatusCreated, []string{ratelimit.ScopeQuestionnaires},
		func(qi cv.QuestionnaireInput) (*cv.Questionnaire, error) {
			return s.CV.CreateQuestionnaire(r.Context(), u.ID, qi)
		})
}

// saveQuestionnaire reads a questionnaire body (JSON, form or multipart),
// takes scopes — and uploads when it carries a resume — runs save, gives the
// units back when save fails, and answers status with the saved object.
func (s *Server) saveQuestionnaire(w http.ResponseWriter, r *http.Request, u *accounts.User, status int, scopes []string,
	save func(cv.QuestionnaireInput) (*cv.Questionnaire, error)) {
	in, err := parseInput(r)
	if err != nil {
		s.writeError(w, r, uploadTooLarge(r, err))
		return
	}
	defer in.cleanup()
	qi, err := questionnaireInput(in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if qi.Resume.File != nil {
		scopes = append(scopes, ratelimit.ScopeUploads)
	}
	var taken []ratelimit.Decision
	if len(scopes) > 0 {
		var ok bool
		if taken, ok = s.takeScopes(w, r, u, scopes...); !ok {
			return
		}
	}
	q, err := save(qi)
	if err != nil {
		s.refundScopes(r, u, taken)
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, s.qView(r, q))
}

// uploadTooLarge gives an oversized multipart body the CV message.
func uploadTooLarge(r *http.Request, err error) error {
	if err == errTooLarge && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return apperr.Field("resume", cv.MsgTooLargeCV)
	}
	return err
}

func (s *Server) getQuestionnaire(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.userAndID(w, r)
	if !ok {
		return
	}
	q, err := s.CV.Questionnaire(r.Context(), u.ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.qView(r, q))
}

func (s *Server) updateQuestionnaire(partial bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, id, ok := s.userAndID(w, r)
		if !ok {
			return
		}
		s.saveQuestionnaire(w, r, u, http.StatusOK, nil, func(qi cv.QuestionnaireInput) (*cv.Questionnaire, error) {
			return s.CV.UpdateQuestionnaire(r.Context(), u.ID, id, qi, partial)
		})
	}
}

func (s *Server) deleteQuestionnaire(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.userAndID(w, r)
	if !ok {
		return
	}
	if err := s.CV.DeleteQuestionnaire(r.Context(), u.ID, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) questionnaireMatch(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.userAndID(w, r)
	if !ok {
		return
	}
	m, err := s.CV.Match(r.Context(), u.ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// aiView is REFERENCE §8.3's object plus the fields CONTRACT §6 adds.
type aiView struct {
	ID            int64           `json:"id"`
	Questionnaire int64           `json:"questionnaire"`
	CreatedAt     Time            `json:"created_at"`
	ResponseText  string          `json:"response_text"`
	Status        string          `json:"status"`
	Error         *string         `json:"error"`
	Provider      string          `json:"provider"`
	Model         string          `json:"model"`
	Match         json.RawMessage `json:"match"`
	PDFURL        *string         `json:"pdf_url"`
	RateLimitInfo any             `json:"rate_limit_info,omitempty"`
}

func (s *Server) aView(r *http.Request, a *cv.AIResponse) aiView {
	v := aiView{ID: a.ID, Questionnaire: a.QuestionnaireID, CreatedAt: Time(a.CreatedAt), ResponseText: a.ResponseText,
		Status: a.Status, Error: a.Error, Provider: a.Provider, Model: a.Model, Match: json.RawMessage("null")}
	if a.MatchJSON != nil {
		v.Match = json.RawMessage(*a.MatchJSON)
	}
	if a.PDFKey != nil {
		v.PDFURL = s.fileURL(r, *a.PDFKey)
	}
	return v
}

func (s *Server) listAIResponses(w http.ResponseWriter, r *http.Request) {
	serveList(s, w, r, s.CV.ListAIResponses, func(a *cv.AIResponse) aiView { return s.aView(r, a) })
}

func (s *Server) getAIResponse(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.userAndID(w, r)
	if !ok {
		return
	}
	a, err := s.CV.AIResponse(r.Context(), u.ID, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.aView(r, a))
}

// wantsAsync reads `Prefer: respond-async` (RFC 7240).
func wantsAsync(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(strings.SplitN(p, ";", 2)[0]), "respond-async") {
				return true
			}
		}
	}
	return false
}

func (s *Server) createAIResponse(w http.ResponseWriter, r *http.Request) {
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	in, err := parseInput(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer in.cleanup()
	errs := map[string][]string{}
	ai := cv.AIInput{Questionnaire: in.str("questionnaire", errs), Prompt: in.str("prompt", errs)}
	if len(errs["questionnaire"]) > 0 {
		ai.Questionnaire = field.Str{Set: true, V: "invalid"}
	}
	if _, isText := in.vals["prompt"].(string); len(errs["prompt"]) > 0 || (ai.Prompt.Present() && !isText) {
		ai.Prompt = field.Str{Set: true, Invalid: true}
	}
	if v, ok := in.vals["questionnaire"].(bool); ok && !v {
		ai.Questionnaire = field.Str{Set: true}
	}
	a, _, err := s.CV.StartGeneration(r.Context(), u, ai)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", s.absoluteBase(r)+"/cv/ai-responses/"+strconv.FormatInt(a.ID, 10)+"/")
	async := wantsAsync(r)
	if !async {
		// The job keeps running if the client goes away; wait detached
		// from the request only for its lifetime.
		done, err := s.CV.WaitGeneration(r.Context(), a.ID, s.Config.AISyncWait)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		a = done
		switch a.Status {
		case cv.StatusFailed:
			s.writeError(w, r, cv.GenerationError(a))
			return
		case cv.StatusSucceeded:
			v := s.aView(r, a)
			v.RateLimitInfo = s.rateInfo(r.Context(), u.ID, u.PlanOrFree())
			writeJSON(w, http.StatusCreated, v)
			return
		}
		// Still running after AI_SYNC_WAIT: answer as an async request.
	}
	w.Header().Set("Preference-Applied", "respond-async")
	v := s.aView(r, a)
	v.RateLimitInfo = s.rateInfo(r.Context(), u.ID, u.PlanOrFree())
	writeJSON(w, http.StatusAccepted, v)
}

func (s *Server) rateInfo(ctx context.Context, userID int64, plan string) any {
	if s.CV.Quota == nil {
		return nil
	}
	return s.CV.Quota.Info(ctx, userID, plan)
}

func (s *Server) generatePDF(w http.ResponseWriter, r *http.Request) {
	u, id, ok := s.userAndID(w, r)
	if !ok {
		return
	}
	taken, ok := s.takeScopes(w, r, u, ratelimit.ScopeUploads)
	if !ok {
		return
	}
	key, err := s.CV.RenderPDF(r.Context(), u.ID, id)
	if err != nil {
		s.refundScopes(r, u, taken)
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]*string{"pdf_url": s.fileURL(r, key)})
}
