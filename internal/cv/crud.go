package cv

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/cvimprover/cvimprover/internal/match"
)

// Page selects a slice of a list (Limit 0: everything).
type Page struct{ Limit, Offset int }

// CreateQuestionnaire validates, stores the resume (if any) and inserts,
// enqueueing the text extraction in the same transaction.
func (s *Service) CreateQuestionnaire(ctx context.Context, userID int64, in QuestionnaireInput) (*Questionnaire, error) {
	q := Questionnaire{UserID: userID, SubmittedAt: s.now(), ResumeStatus: ResumeNone}
	if err := apply(&q, in, false); err != nil {
		return nil, err
	}
	return s.save(ctx, &q, in.Resume, true)
}

// UpdateQuestionnaire is PUT (partial false) or PATCH (partial true).
func (s *Service) UpdateQuestionnaire(ctx context.Context, userID, id int64, in QuestionnaireInput, partial bool) (*Questionnaire, error) {
	cur, err := s.DB.Questionnaire(ctx, s.DB.Handle(), id, userID)
	if err != nil {
		return nil, notFound(err, MsgNotFoundQ)
	}
	q := cur
	if err := apply(&q, in, partial); err != nil {
		return nil, err
	}
	return s.save(ctx, &q, in.Resume, false)
}

func (s *Service) save(ctx context.Context, q *Questionnaire, r ResumeInput, create bool) (*Questionnaire, error) {
	var newKey, ct string
	var size int64
	var old *string
	if r.File != nil {
		var err error
		if newKey, ct, err = s.storeUpload(ctx, q.UserID, r.File); err != nil {
			return nil, err
		}
		size = r.File.Size
		old = q.Resume
		name := r.File.Name
		q.Resume, q.ResumeName, q.ResumeText, q.ResumeStatus, q.ResumeError = &newKey, &name, nil, ResumePending, nil
	} else if r.Clear {
		old = q.Resume
		q.Resume, q.ResumeName, q.ResumeText, q.ResumeStatus, q.ResumeError = nil, nil, nil, ResumeNone, nil
	}
	err := s.DB.InTx(ctx, func(tx *sql.Tx) error {
		if create {
			id, err := s.DB.CreateQuestionnaire(ctx, tx, *q)
			if err != nil {
				return err
			}
			q.ID = id
		} else if err := s.DB.UpdateQuestionnaire(ctx, tx, *q); err != nil {
			return err
		}
		if newKey != "" {
			if err := s.DB.RegisterFile(ctx, tx, newKey, q.UserID, "resume", ct, size); err != nil {
				return err
			}
			return s.Jobs.EnqueueExtract(ctx, tx, q.ID, newKey)
		}
		return nil
	})
	if err != nil {
		if newKey != "" {
			_ = s.Files.Delete(ctx, newKey)
		}
		return nil, notFound(err, MsgNotFoundQ)
	}
	s.refreshQ(ctx, q.ID)
	if old != nil && (q.Resume == nil || *old != *q.Resume) {
		s.deleteFiles(ctx, *old)
	}
	return q, nil
}

// ListQuestionnaires returns a page of the user's questionnaires (newest
// first) and the total count.
func (s *Service) ListQuestionnaires(ctx context.Context, userID int64, p Page) ([]Questionnaire, int, error) {
	list, err := s.DB.ListQuestionnaires(ctx, userID, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, err
	}
	total := len(list)
	if p.Limit > 0 {
		if total, err = s.DB.CountQuestionnaires(ctx, userID); err != nil {
			return nil, 0, err
		}
	}
	return list, total, nil
}

// DeleteQuestionnaire deletes a questionnaire, its AI responses and their
// files.
func (s *Service) DeleteQuestionnaire(ctx context.Context, userID, id int64) error {
	keys, aiIDs, err := s.DB.DeleteQuestionnaire(ctx, id, userID)
	if err != nil {
		return notFound(err, MsgNotFoundQ)
	}
	gone := []string{qKey(id)}
	for _, a := range aiIDs {
		gone = append(gone, aKey(a), stateKey(a))
	}
	_ = s.Cache.Delete(ctx, gone...)
	s.deleteFiles(ctx, keys...)
	return nil
}

// Match is the deterministic job-match analysis of a questionnaire's CV
// against its job description.
func (s *Service) Match(ctx context.Context, userID, id int64) (match.Result, error) {
	q, err := s.Questionnaire(ctx, userID, id)
	if err != nil {
		return match.Result{}, err
	}
	if q.ResumeStatus == ResumePending && q.Resume != nil {
		_ = s.ExtractResume(ctx, q.ID, *q.Resume)
		if q, err = s.Questionnaire(ctx, userID, id); err != nil {
			return match.Result{}, err
		}
	}
	return match.Analyze(matchInput(q)), nil
}

func matchInput(q *Questionnaire) match.Input {
	in := match.Input{Position: q.Position, Industry: q.Industry, ExperienceLevel: q.ExperienceLevel}
	if q.ResumeText != nil {
		in.CVText = *q.ResumeText
	}
	if q.JobDescription != nil {
		in.JobDescription = *q.JobDescription
	}
	return in
}

// MatchReport is the match object stored on an AI response: the analysis
// plus the fabrication check of the generated text.
type MatchReport struct {
	match.Result
	Unsupported []match.Claim `json:"unsupported"`
}

// buildMatch analyses the questionnaire and checks the generated text for
// claims found in neither source. The target position counts as a source
// (a rewrite may name the job it targets). The offline report is built
// only from the sources and quotes its own score and word counts, so it is
// not checked.
func buildMatch(q *Questionnaire, generated string, offline bool) *string {
	in := matchInput(q)
	m := MatchReport{Result: match.Analyze(in)}
	if !offline {
		m.Unsupported = match.Unsupported(generated, in.CVText, in.JobDescription+"\n"+q.Position)
	}
	if m.Unsupported == nil {
		m.Unsupported = []match.Claim{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	v := string(b)
	return &v
}
