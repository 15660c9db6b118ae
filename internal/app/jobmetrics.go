package app

import (
	"github.com/riverqueue/river"
)

// watchJobs feeds job outcomes and durations into the metrics and the log
// (job kind and id only: arguments may carry personal data).
func (a *App) watchJobs() {
	events, cancel := a.Queue.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
		river.EventKindJobCancelled, river.EventKindJobSnoozed)
	if events == nil {
		cancel()
		return
	}
	go func() {
		defer cancel()
		for ev := range events {
			if ev == nil || ev.Job == nil {
				continue
			}
			kind := ev.Job.Kind
			a.Metrics.JobsTotal.WithLabelValues(kind, string(ev.Kind)).Inc()
			if ev.JobStats != nil {
				a.Metrics.JobDuration.WithLabelValues(kind).Observe(ev.JobStats.RunDuration.Seconds())
			}
			if ev.Kind == river.EventKindJobFailed {
				a.Logger.Warn("job attempt failed", "kind", kind, "job_id", ev.Job.ID, "attempt", ev.Job.Attempt)
			}
		}
	}()
}
