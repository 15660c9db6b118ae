package jobs

import (
	"context"
	"database/sql"
	"time"

	"github.com/riverqueue/river"
)

// CVRunner does the CV work of the jobs below (the cv service).
type CVRunner interface {
	ExtractResume(ctx context.Context, questionnaireID int64, key string) error
	RunGeneration(ctx context.Context, aiResponseID int64) error
}

// ExtractResumeArgs reads an uploaded resume's text once.
type ExtractResumeArgs struct {
	QuestionnaireID int64  `json:"questionnaire_id"`
	Key             string `json:"key"`
}

func (ExtractResumeArgs) Kind() string { return "extract_resume" }

func (ExtractResumeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ExtractResumeWorker runs ExtractResumeArgs.
type ExtractResumeWorker struct {
	river.WorkerDefaults[ExtractResumeArgs]
	CV CVRunner
}

// Timeout bounds a hostile file: the extractor has its own deadline; this
// one is the backstop.
func (w *ExtractResumeWorker) Timeout(*river.Job[ExtractResumeArgs]) time.Duration {
	return time.Minute
}

func (w *ExtractResumeWorker) Work(ctx context.Context, job *river.Job[ExtractResumeArgs]) error {
	return w.CV.ExtractResume(ctx, job.Args.QuestionnaireID, job.Args.Key)
}

// GenerateArgs runs one AI generation.
type GenerateArgs struct {
	AIResponseID int64 `json:"ai_response_id"`
}

func (GenerateArgs) Kind() string { return "generate_ai_response" }

func (GenerateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// GenerateWorker runs GenerateArgs. A worker killed mid-generation leaves
// the job running; River rescues it and the next attempt produces the one
// stored result (the row is only ever finished once).
type GenerateWorker struct {
	river.WorkerDefaults[GenerateArgs]
	CV         CVRunner
	JobTimeout time.Duration
}

func (w *GenerateWorker) Timeout(*river.Job[GenerateArgs]) time.Duration { return w.JobTimeout }

// NextRetry retries transient provider failures soon: a user may be waiting.
func (w *GenerateWorker) NextRetry(job *river.Job[GenerateArgs]) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * 2 * time.Second)
}

func (w *GenerateWorker) Work(ctx context.Context, job *river.Job[GenerateArgs]) error {
	return w.CV.RunGeneration(ctx, job.Args.AIResponseID)
}

// CVEnqueuer adapts the queue to the cv service's Enqueuer.
type CVEnqueuer struct{ Q *Queue }

func (e CVEnqueuer) EnqueueExtract(ctx context.Context, tx *sql.Tx, questionnaireID int64, key string) error {
	_, err := e.Q.InsertTx(ctx, tx, ExtractResumeArgs{QuestionnaireID: questionnaireID, Key: key}, nil)
	return err
}

func (e CVEnqueuer) EnqueueGenerate(ctx context.Context, tx *sql.Tx, id int64) error {
	_, err := e.Q.InsertTx(ctx, tx, GenerateArgs{AIResponseID: id}, nil)
	return err
}
