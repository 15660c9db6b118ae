package cv

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cvimprover/cvimprover/internal/apperr"
	"github.com/cvimprover/cvimprover/internal/dbq"
)

// TxHandle is an open transaction.
type TxHandle = *sql.Tx

// CVStore is what the CV service needs from the database.
type CVStore interface {
	Handle() dbq.Querier
	InTx(ctx context.Context, f func(tx *sql.Tx) error) error
	CreateQuestionnaire(ctx context.Context, tx dbq.Querier, q Questionnaire) (int64, error)
	Questionnaire(ctx context.Context, q dbq.Querier, id, userID int64) (Questionnaire, error)
	QuestionnaireAny(ctx context.Context, id int64) (Questionnaire, error)
	ListQuestionnaires(ctx context.Context, userID int64, limit, offset int) ([]Questionnaire, error)
	CountQuestionnaires(ctx context.Context, userID int64) (int, error)
	UpdateQuestionnaire(ctx context.Context, tx dbq.Querier, q Questionnaire) error
	SetResumeText(ctx context.Context, id int64, key string, text *string, status string, errText *string) (bool, error)
	DeleteQuestionnaire(ctx context.Context, id, userID int64) ([]string, []int64, error)
	CreateAIResponse(ctx context.Context, tx dbq.Querier, a AIResponse) (int64, error)
	AIResponse(ctx context.Context, id, userID int64) (AIResponse, error)
	AIResponseAny(ctx context.Context, id int64) (AIResponse, error)
	ListAIResponses(ctx context.Context, userID int64, limit, offset int) ([]AIResponse, error)
	CountAIResponses(ctx context.Context, userID int64) (int, error)
	MarkAIRunning(ctx context.Context, id int64) (bool, error)
	FinishAI(ctx context.Context, id int64, status, text string, errText *string, errStatus *int, match *string) (bool, error)
	SetAIPDF(ctx context.Context, id int64, key string) (*string, error)
	RegisterFile(ctx context.Context, q dbq.Querier, key string, userID int64, kind, contentType string, size int64) error
	ForgetFile(ctx context.Context, key string) error
	FileReferenced(ctx context.Context, key string) (bool, error)
}

// Quota is the ai_responses limit as the generation endpoint uses it
// (implemented by the rate-limit package).
type Quota interface {
	// Precheck returns the 429 pre-check error when no generation is left.
	Precheck(ctx context.Context, userID int64, plan string) error
	// Take atomically uses one generation (the same 429 when none is left)
	// and returns when it was taken, for Refund.
	Take(ctx context.Context, userID int64, plan string) (time.Time, error)
	// Refund gives back a generation whose upstream call failed.
	Refund(ctx context.Context, userID int64, plan string, takenAt time.Time)
	// Info is the rate_limit_info object of a successful generation.
	Info(ctx context.Context, userID int64, plan string) any
}

func notFound(err error, msg string) error {
	if errors.Is(err, dbq.ErrNotFound) {
		return apperr.DetailErr(apperr.NotFound, msg)
	}
	return err
}
