// Package cv owns questionnaires (the target job), uploaded resumes, AI
// generations with their match analysis, and generated PDFs. It knows
// nothing of HTTP.
package cv

import "time"

// Questionnaire is one target job description of a user.
type Questionnaire struct {
	ID                  int64     `json:"id"`
	UserID              int64     `json:"user_id"`
	Position            string    `json:"position"`
	Industry            string    `json:"industry"`
	ExperienceLevel     string    `json:"experience_level"`
	CompanySize         string    `json:"company_size"`
	Location            *string   `json:"location"`
	ApplicationTimeline string    `json:"application_timeline"`
	JobDescription      *string   `json:"job_description"`
	SubmittedAt         time.Time `json:"submitted_at"`
	// Resume is the file-store key of the uploaded CV (nil: none).
	Resume       *string `json:"resume"`
	ResumeName   *string `json:"resume_name"`
	ResumeText   *string `json:"resume_text"`
	ResumeStatus string  `json:"resume_status"` // none|pending|done|failed
	ResumeError  *string `json:"resume_error"`
}

// Resume extraction states.
const (
	ResumeNone    = "none"
	ResumePending = "pending"
	ResumeDone    = "done"
	ResumeFailed  = "failed"
)

// AIResponse is one generation for a questionnaire.
type AIResponse struct {
	ID              int64      `json:"id"`
	QuestionnaireID int64      `json:"questionnaire_id"`
	UserID          int64      `json:"user_id"`
	ResponseText    string     `json:"response_text"`
	CreatedAt       time.Time  `json:"created_at"`
	Status          string     `json:"status"` // pending|running|succeeded|failed
	Error           *string    `json:"error"`
	ErrorStatus     *int       `json:"error_status"`
	Provider        string     `json:"provider"`
	Model           string     `json:"model"`
	Prompt          string     `json:"prompt"`
	MatchJSON       *string    `json:"match_json"`
	PDFKey          *string    `json:"pdf_key"`
	FinishedAt      *time.Time `json:"finished_at"`
}

// Generation states.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Choices of REFERENCE §8.1, in order.
var (
	ExperienceLevels     = []string{"0-2", "3-5", "6+"}
	CompanySizes         = []string{"startup", "small", "medium", "enterprise"}
	ApplicationTimelines = []string{"immediate", "1-3 months", "3-6 months", "6+ months"}
)
