package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/cvimprover/cvimprover/internal/cv"
)

const qCols = `id, user_id, position, industry, experience_level, company_size, location, application_timeline,
	job_description, submitted_at, resume, resume_name, resume_text, resume_status, resume_error`

func scanQ(row interface{ Scan(...any) error }) (cv.Questionnaire, error) {
	var q cv.Questionnaire
	var loc, jd, res, resName, resText, resErr sql.NullString
	err := row.Scan(&q.ID, &q.UserID, &q.Position, &q.Industry, &q.ExperienceLevel, &q.CompanySize, &loc,
		&q.ApplicationTimeline, &jd, &q.SubmittedAt, &res, &resName, &resText, &q.ResumeStatus, &resErr)
	if err != nil {
		return q, classify(err)
	}
	q.SubmittedAt = q.SubmittedAt.UTC()
	q.Location, q.JobDescription, q.Resume = nullStr(loc), nullStr(jd), nullStr(res)
	q.ResumeName, q.ResumeText, q.ResumeError = nullStr(resName), nullStr(resText), nullStr(resErr)
	return q, nil
}

// CreateQuestionnaire inserts q and returns its id.
func (d *DB) CreateQuestionnaire(ctx context.Context, tx Querier, q cv.Questionnaire) (int64, error) {
	if q.ResumeStatus == "" {
		q.ResumeStatus = cv.ResumeNone
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO questionnaires (user_id, position, industry, experience_level, company_size,
			location, application_timeline, job_description, submitted_at, resume, resume_name, resume_status, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $9) RETURNING id`,
		q.UserID, q.Position, q.Industry, q.ExperienceLevel, q.CompanySize, q.Location, q.ApplicationTimeline,
		q.JobDescription, q.SubmittedAt.UTC(), q.Resume, q.ResumeName, q.ResumeStatus).Scan(&id)
	return id, classify(err)
}

// Questionnaire loads one questionnaire of userID (ErrNotFound otherwise).
func (d *DB) Questionnaire(ctx context.Context, q Querier, id, userID int64) (cv.Questionnaire, error) {
	return scanQ(q.QueryRowContext(ctx, `SELECT `+qCols+` FROM questionnaires WHERE id = $1 AND user_id = $2`, id, userID))
}

// QuestionnaireAny loads a questionnaire whoever owns it (jobs).
func (d *DB) QuestionnaireAny(ctx context.Context, id int64) (cv.Questionnaire, error) {
	return scanQ(d.SQL.QueryRowContext(ctx, `SELECT `+qCols+` FROM questionnaires WHERE id = $1`, id))
}

// ListQuestionnaires returns the user's questionnaires, newest first.
// limit <= 0 means all.
func (d *DB) ListQuestionnaires(ctx context.Context, userID int64, limit, offset int) ([]cv.Questionnaire, error) {
	return listPage(ctx, d, `SELECT `+qCols+` FROM questionnaires WHERE user_id = $1 ORDER BY submitted_at DESC, id DESC`,
		userID, limit, offset, scanQ)
}

// CountQuestionnaires counts the user's questionnaires.
func (d *DB) CountQuestionnaires(ctx context.Context, userID int64) (int, error) {
	var n int
	err := d.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM questionnaires WHERE user_id = $1`, userID).Scan(&n)
	return n, classify(err)
}

// UpdateQuestionnaire writes every editable field of q (owner checked).
func (d *DB) UpdateQuestionnaire(ctx context.Context, tx Querier, q cv.Questionnaire) error {
	res, err := tx.ExecContext(ctx, `UPDATE questionnaires SET position = $3, industry = $4, experience_level = $5,
			company_size = $6, location = $7, application_timeline = $8, job_description = $9, resume = $10,
			resume_name = $11, resume_text = $12, resume_status = $13, resume_error = $14, updated_at = $15
		WHERE id = $1 AND user_id = $2`,
		q.ID, q.UserID, q.Position, q.Industry, q.ExperienceLevel, q.CompanySize, q.Location, q.ApplicationTimeline,
		q.JobDescription, q.Resume, q.ResumeName, q.ResumeText, q.ResumeStatus, q.ResumeError, time.Now().UTC())
	if err != nil {
		return classify(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SetResumeText stores the extraction result if the resume is still key.
func (d *DB) SetResumeText(ctx context.Context, id int64, key string, text *string, status string, errText *string) (bool, error) {
	res, err := d.SQL.ExecContext(ctx, `UPDATE questionnaires SET resume_text = $3, resume_status = $4, resume_error = $5, updated_at = $6
		WHERE id = $1 AND resume = $2`, id, key, text, status, errText, time.Now().UTC())
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteQuestionnaire deletes a questionnaire (its AI responses cascade)
// and returns the file keys that belonged to it and the ids of the AI
// responses deleted with it.
func (d *DB) DeleteQuestionnaire(ctx context.Context, id, userID int64) ([]string, []int64, error) {
	var keys []string
	var aiIDs []int64
	err := d.InTx(ctx, func(tx Tx) error {
		q, err := d.Questionnaire(ctx, tx, id, userID)
		if err != nil {
			return err
		}
		if q.Resume != nil {
			keys = append(keys, *q.Resume)
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, pdf_key FROM ai_responses WHERE questionnaire_id = $1`, id)
		if err != nil {
			return classify(err)
		}
		for rows.Next() {
			var aid int64
			var k sql.NullString
			if err := rows.Scan(&aid, &k); err != nil {
				rows.Close()
				return classify(err)
			}
			aiIDs = append(aiIDs, aid)
			if k.Valid {
				keys = append(keys, k.String)
			}
		}
		rows.Close()
		if _, err := tx.ExecContext(ctx, `DELETE FROM questionnaires WHERE id = $1 AND user_id = $2`, id, userID); err != nil {
			return classify(err)
		}
		return nil
	})
	return keys, aiIDs, err
}

const aCols = `id, questionnaire_id, user_id, response_text, created_at, status, error, error_status, provider, model,
	prompt, match_json, pdf_key, finished_at`

func scanA(row interface{ Scan(...any) error }) (cv.AIResponse, error) {
	var a cv.AIResponse
	var errText, match, pdf sql.NullString
	var errStatus sql.NullInt64
	var finished sql.NullTime
	err := row.Scan(&a.ID, &a.QuestionnaireID, &a.UserID, &a.ResponseText, &a.CreatedAt, &a.Status, &errText, &errStatus,
		&a.Provider, &a.Model, &a.Prompt, &match, &pdf, &finished)
	if err != nil {
		return a, classify(err)
	}
	a.CreatedAt = a.CreatedAt.UTC()
	a.Error, a.MatchJSON, a.PDFKey = nullStr(errText), nullStr(match), nullStr(pdf)
	if errStatus.Valid {
		v := int(errStatus.Int64)
		a.ErrorStatus = &v
	}
	if finished.Valid {
		t := finished.Time.UTC()
		a.FinishedAt = &t
	}
	return a, nil
}

// CreateAIResponse inserts a pending generation.
func (d *DB) CreateAIResponse(ctx context.Context, tx Querier, a cv.AIResponse) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO ai_responses (questionnaire_id, user_id, response_text, created_at, status,
			provider, model, prompt) VALUES ($1, $2, '', $3, $4, $5, $6, $7) RETURNING id`,
		a.QuestionnaireID, a.UserID, a.CreatedAt.UTC(), cv.StatusPending, a.Provider, a.Model, a.Prompt).Scan(&id)
	return id, classify(err)
}

// AIResponse loads one generation of userID.
func (d *DB) AIResponse(ctx context.Context, id, userID int64) (cv.AIResponse, error) {
	return scanA(d.SQL.QueryRowContext(ctx, `SELECT `+aCols+` FROM ai_responses WHERE id = $1 AND user_id = $2`, id, userID))
}

// AIResponseAny loads a generation whoever owns it (jobs).
func (d *DB) AIResponseAny(ctx context.Context, id int64) (cv.AIResponse, error) {
	return scanA(d.SQL.QueryRowContext(ctx, `SELECT `+aCols+` FROM ai_responses WHERE id = $1`, id))
}

// ListAIResponses returns the user's generations, newest first.
func (d *DB) ListAIResponses(ctx context.Context, userID int64, limit, offset int) ([]cv.AIResponse, error) {
	return listPage(ctx, d, `SELECT `+aCols+` FROM ai_responses WHERE user_id = $1 ORDER BY created_at DESC, id DESC`,
		userID, limit, offset, scanA)
}

// CountAIResponses counts the user's generations.
func (d *DB) CountAIResponses(ctx context.Context, userID int64) (int, error) {
	var n int
	err := d.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM ai_responses WHERE user_id = $1`, userID).Scan(&n)
	return n, classify(err)
}

// MarkAIRunning moves a pending (or re-run) generation to running; it
// returns false when the generation has already finished (a retried job
// after the result was stored: nothing to do).
func (d *DB) MarkAIRunning(ctx context.Context, id int64) (bool, error) {
	res, err := d.SQL.ExecContext(ctx, `UPDATE ai_responses SET status = $2 WHERE id = $1 AND status IN ($3, $2)`,
		id, cv.StatusRunning, cv.StatusPending)
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishAI stores the outcome of a generation exactly once: only a row
// still pending or running is changed.
func (d *DB) FinishAI(ctx context.Context, id int64, status, text string, errText *string, errStatus *int, match *string) (bool, error) {
	res, err := d.SQL.ExecContext(ctx, `UPDATE ai_responses SET status = $2, response_text = $3, error = $4, error_status = $5,
			match_json = $6, finished_at = $7 WHERE id = $1 AND status IN ($8, $9)`,
		id, status, text, errText, errStatus, match, time.Now().UTC(), cv.StatusPending, cv.StatusRunning)
	if err != nil {
		return false, classify(err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetAIPDF stores the generated PDF's key and returns the previous one.
func (d *DB) SetAIPDF(ctx context.Context, id int64, key string) (*string, error) {
	var prev *string
	err := d.InTx(ctx, func(tx Tx) error {
		var p sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT pdf_key FROM ai_responses WHERE id = $1`, id).Scan(&p); err != nil {
			return classify(err)
		}
		prev = nullStr(p)
		_, err := tx.ExecContext(ctx, `UPDATE ai_responses SET pdf_key = $2 WHERE id = $1`, id, key)
		return classify(err)
	})
	return prev, err
}

// RegisterFile records a stored blob.
func (d *DB) RegisterFile(ctx context.Context, q Querier, key string, userID int64, kind, contentType string, size int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO files (key, user_id, kind, content_type, size, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (key) DO NOTHING`, key, userID, kind, contentType, size, time.Now().UTC())
	return classify(err)
}

// ForgetFile removes a blob's record.
func (d *DB) ForgetFile(ctx context.Context, key string) error {
	_, err := d.SQL.ExecContext(ctx, `DELETE FROM files WHERE key = $1`, key)
	return classify(err)
}

// FileReferenced reports whether a questionnaire or an AI response still
// points at key.
func (d *DB) FileReferenced(ctx context.Context, key string) (bool, error) {
	var n int
	err := d.SQL.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM questionnaires WHERE resume = $1) +
		(SELECT COUNT(*) FROM ai_responses WHERE pdf_key = $1)`, key).Scan(&n)
	return n > 0, classify(err)
}

// FileOwner returns the user a registered blob belongs to.
func (d *DB) FileOwner(ctx context.Context, key string) (int64, error) {
	var uid sql.NullInt64
	err := d.SQL.QueryRowContext(ctx, `SELECT user_id FROM files WHERE key = $1`, key).Scan(&uid)
	return uid.Int64, classify(err)
}
