package cv

import (
	"context"
	"errors"
	"time"

	"github.com/cvimprover/cvimprover/internal/files"
)

// SweepOrphans deletes stored files that no questionnaire or AI response
// refers to any more and that are older than minAge (a fresh upload may
// not be committed yet). It returns how many files it deleted.
func (s *Service) SweepOrphans(ctx context.Context, minAge time.Duration) (int, error) {
	cutoff := s.now().Add(-minAge)
	var orphans []string
	for _, prefix := range []string{"resumes/", "generated/"} {
		err := s.Files.List(ctx, prefix, func(i files.Info) error {
			if i.ModTime.After(cutoff) {
				return nil
			}
			ref, err := s.DB.FileReferenced(ctx, i.Key)
			if err != nil {
				return err
			}
			if !ref {
				orphans = append(orphans, i.Key)
			}
			return nil
		})
		if err != nil && !errors.Is(err, files.ErrNotFound) {
			return 0, err
		}
	}
	n := 0
	for _, k := range orphans {
		if err := s.Files.Delete(ctx, k); err != nil && !errors.Is(err, files.ErrNotFound) {
			s.Logger.Warn("deleting orphaned file failed", "err", err)
			continue
		}
		_ = s.DB.ForgetFile(ctx, k)
		n++
	}
	return n, nil
}
