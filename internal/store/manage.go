package store

import (
	"context"
	"database/sql"
	"time"
)

// OldAIResponse is one AI response as the cleanup command lists it.
type OldAIResponse struct {
	ID        int64
	CreatedAt time.Time
	PDFKey    *string
}

// AIResponsesBefore lists up to limit AI responses created before cutoff,
// oldest first.
func (d *DB) AIResponsesBefore(ctx context.Context, cutoff time.Time, limit int) ([]OldAIResponse, error) {
	rows, err := d.SQL.QueryContext(ctx, `SELECT id, created_at, pdf_key FROM ai_responses WHERE created_at < $1
		ORDER BY created_at, id LIMIT $2`, cutoff.UTC(), limit)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var out []OldAIResponse
	for rows.Next() {
		var r OldAIResponse
		var pdf sql.NullString
		if err := rows.Scan(&r.ID, &r.CreatedAt, &pdf); err != nil {
			return nil, classify(err)
		}
		r.CreatedAt = r.CreatedAt.UTC()
		r.PDFKey = nullStr(pdf)
		out = append(out, r)
	}
	return out, classify(rows.Err())
}

// DeletedAIResponse is what DeleteAIResponsesBefore reports per deleted row.
type DeletedAIResponse struct {
	ID     int64
	PDFKey *string
}

// DeleteAIResponsesBefore deletes every AI response created before cutoff in
// one transaction (all or nothing), batch by batch so that progress can be
// reported through progress(deleted so far). Questionnaires are not touched.
func (d *DB) DeleteAIResponsesBefore(ctx context.Context, cutoff time.Time, batch int, progress func(done int)) ([]DeletedAIResponse, error) {
	if batch <= 0 {
		batch = 500
	}
	var out []DeletedAIResponse
	err := d.InTx(ctx, func(tx Tx) error {
		out = out[:0]
		for {
			rows, err := tx.QueryContext(ctx, `DELETE FROM ai_responses WHERE id IN
				(SELECT id FROM ai_responses WHERE created_at < $1 ORDER BY id LIMIT $2) RETURNING id, pdf_key`,
				cutoff.UTC(), batch)
			if err != nil {
				return classify(err)
			}
			n := 0
			for rows.Next() {
				var r DeletedAIResponse
				var pdf sql.NullString
				if err := rows.Scan(&r.ID, &pdf); err != nil {
					rows.Close()
					return classify(err)
				}
				r.PDFKey = nullStr(pdf)
				out = append(out, r)
				n++
			}
			if err := rows.Close(); err != nil {
				return classify(err)
			}
			if err := rows.Err(); err != nil {
				return classify(err)
			}
			if n == 0 {
				return nil
			}
			if progress != nil {
				progress(len(out))
			}
			if n < batch {
				return nil
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReferencedFileKeys returns every file-store key a questionnaire (resume)
// or an AI response (generated PDF) refers to.
func (d *DB) ReferencedFileKeys(ctx context.Context) (map[string]struct{}, error) {
	rows, err := d.SQL.QueryContext(ctx, `SELECT resume FROM questionnaires WHERE resume IS NOT NULL AND resume <> ''
		UNION SELECT pdf_key FROM ai_responses WHERE pdf_key IS NOT NULL AND pdf_key <> ''`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	out := map[string]struct{}{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, classify(err)
		}
		out[k] = struct{}{}
	}
	return out, classify(rows.Err())
}

// TestAIResponse is a finished AI response written as given (test data).
type TestAIResponse struct {
	QuestionnaireID, UserID int64
	Text, Status            string
	CreatedAt               time.Time
}

// InsertAIResponse inserts a finished AI response with an explicit
// creation time (create-test-data back-dates them).
func (d *DB) InsertAIResponse(ctx context.Context, q Querier, r TestAIResponse) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO ai_responses (questionnaire_id, user_id, response_text, created_at, status,
			provider, model, prompt, finished_at) VALUES ($1, $2, $3, $4, $5, '', '', '', $4) RETURNING id`,
		r.QuestionnaireID, r.UserID, r.Text, r.CreatedAt.UTC(), r.Status).Scan(&id)
	return id, classify(err)
}
