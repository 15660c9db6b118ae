package manage

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/cvimprover/cvimprover/internal/files"
)

// CleanupOptions are the flags of cleanup-old-data.
type CleanupOptions struct {
	Days         int
	DryRun       bool
	Force        bool
	CleanupFiles bool
	// FileGrace: orphaned files younger than this are kept, because an
	// upload stores its blob a moment before the row that refers to it
	// is committed.
	FileGrace time.Duration
}

// DefaultFileGrace is --file-grace's default.
const DefaultFileGrace = time.Hour

// fileScopes are the key prefixes the service writes: the walk never
// strays into anything else that may share a STORAGE_URL.
var fileScopes = []string{"resumes/", "generated/"}

const (
	listShown     = 10
	deleteBatch   = 500
	progressEvery = 1000
)

func parseCleanup(fs *flag.FlagSet, args []string) (runner, error) {
	var opt CleanupOptions
	var yes bool
	fs.IntVar(&opt.Days, "days", 90, "delete AI responses older than this many days")
	fs.BoolVar(&opt.DryRun, "dry-run", false, "show what would be deleted without deleting")
	fs.BoolVar(&opt.Force, "force", false, "do not ask for confirmation")
	fs.BoolVar(&yes, "yes", false, "same as --force")
	fs.BoolVar(&opt.CleanupFiles, "cleanup-files", false, "also delete orphaned resume and PDF files")
	fs.DurationVar(&opt.FileGrace, "file-grace", DefaultFileGrace, "keep orphaned files younger than this (uploads in progress)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("unexpected argument %q", pos[0])
	}
	if opt.Days <= 0 {
		return nil, usagef("Days must be a positive integer")
	}
	if opt.FileGrace < 0 {
		return nil, usagef("--file-grace must not be negative")
	}
	opt.Force = opt.Force || yes
	return func(ctx context.Context, o *IO, d Deps) error { return Cleanup(ctx, o, d, opt) }, nil
}

// Cleanup is cleanup-old-data (REFERENCE §9.2): AI responses created before
// now − Days are deleted in one transaction; questionnaires never are. With
// CleanupFiles, stored files that no questionnaire and no AI response refer
// to are deleted too.
func Cleanup(ctx context.Context, o *IO, d Deps, opt CleanupOptions) error {
	if opt.Days <= 0 {
		return usagef("Days must be a positive integer")
	}
	cutoff := o.now().UTC().Add(-time.Duration(opt.Days) * 24 * time.Hour)
	o.println("🧹 Starting cleanup process...")
	o.printf("   Cutoff date: %s\n", cutoff.Format(time.DateTime))
	if opt.DryRun {
		o.println("   Running in DRY-RUN mode - no changes will be made")
	}
	declined := false
	ok, err := cleanupAIResponses(ctx, o, d, opt, cutoff)
	if err != nil {
		return err
	}
	declined = declined || !ok
	if opt.CleanupFiles {
		ok, err := cleanupFiles(ctx, o, d, opt)
		if err != nil {
			return err
		}
		declined = declined || !ok
	}
	if declined {
		o.println("⏩ Cleanup process finished; declined steps were skipped.")
		return declinedf("deletion not confirmed; nothing was deleted in the skipped steps")
	}
	o.println("✅ Cleanup process completed successfully!")
	return nil
}

// cleanupAIResponses returns false when the deletion was declined.
func cleanupAIResponses(ctx context.Context, o *IO, d Deps, opt CleanupOptions, cutoff time.Time) (bool, error) {
	o.println("\n📋 Analyzing AI responses...")
	count, err := d.DB.CountAIResponsesBefore(ctx, cutoff)
	if err != nil {
		return true, fmt.Errorf("counting old AI responses: %w", err)
	}
	if count == 0 {
		o.println("   No old AI responses found.")
		return true, nil
	}
	o.printf("   Found %d AI response(s) older than cutoff date\n", count)
	if opt.DryRun {
		shown, err := d.DB.AIResponsesBefore(ctx, cutoff, listShown)
		if err != nil {
			return true, fmt.Errorf("listing old AI responses: %w", err)
		}
		o.println("   [DRY-RUN] Would delete these AI responses:")
		for _, r := range shown {
			o.printf("     - Response %d from %s\n", r.ID, pyTime(r.CreatedAt))
		}
		if count > listShown {
			o.printf("     ... and %d more\n", count-listShown)
		}
		return true, nil
	}
	a, err := o.confirm(ctx, fmt.Sprintf("\nWarning: Delete %d AI response(s)? [y/N]: ", count), opt.Force, yesOrY)
	if err != nil {
		return false, err
	}
	if a != answerYes {
		o.println("   Skipped AI response cleanup.")
		return false, nil
	}
	var progress func(int)
	if count > deleteBatch {
		progress = func(done int) { o.printf("   ... %d of about %d deleted (committed at the end)\n", done, count) }
	}
	deleted, err := d.DB.DeleteAIResponsesBefore(ctx, cutoff, deleteBatch, progress)
	if err != nil {
		return true, fmt.Errorf("deleting AI responses (nothing was deleted): %w", err)
	}
	o.printf("   ✅ Deleted %d AI response(s)\n", len(deleted))
	pdfs := 0
	for _, r := range deleted {
		if d.Cache != nil {
			// The API caches finished responses for a few minutes (cv's
			// "air:v1:<id>"); drop them so that a deleted one is not served.
			_ = d.Cache.Delete(ctx, "air:v1:"+strconv.FormatInt(r.ID, 10))
		}
		if r.PDFKey != nil {
			pdfs++
		}
	}
	if pdfs > 0 && !opt.CleanupFiles {
		o.printf("   %d generated PDF(s) of the deleted responses are now orphaned; run with --cleanup-files to remove them.\n", pdfs)
	}
	return true, nil
}

type orphan struct {
	key  string
	size int64
}

// cleanupFiles returns false when the deletion was declined.
func cleanupFiles(ctx context.Context, o *IO, d Deps, opt CleanupOptions) (bool, error) {
	o.println("\n📁 Analyzing stored files...")
	if d.Files == nil {
		o.println("   No file store is configured.")
		return true, nil
	}
	refs, err := d.DB.ReferencedFileKeys(ctx)
	if err != nil {
		return true, fmt.Errorf("reading file references: %w", err)
	}
	now := o.now()
	var orphans []orphan
	var total int64
	scanned, young := 0, 0
	for _, prefix := range fileScopes {
		err := d.Files.List(ctx, prefix, func(info files.Info) error {
			scanned++
			if scanned%progressEvery == 0 {
				o.printf("   ... %d file(s) scanned\n", scanned)
			}
			if _, ok := refs[info.Key]; ok {
				return nil
			}
			if opt.FileGrace > 0 && !info.ModTime.IsZero() && now.Sub(info.ModTime) < opt.FileGrace {
				young++
				return nil
			}
			orphans = append(orphans, orphan{info.Key, info.Size})
			total += info.Size
			return nil
		})
		if err != nil {
			return true, fmt.Errorf("listing stored files: %w", err)
		}
	}
	if scanned == 0 {
		o.println("   No files found in the file store.")
		return true, nil
	}
	o.printf("   Found %d file(s) in the file store\n", scanned)
	o.printf("   Found %d active file reference(s)\n", len(refs))
	if young > 0 {
		o.printf("   Kept %d unreferenced file(s) younger than %s (an upload may still be in progress)\n", young, opt.FileGrace)
	}
	if len(orphans) == 0 {
		o.println("   No orphaned files found.")
		return true, nil
	}
	sort.Slice(orphans, func(i, j int) bool { return orphans[i].key < orphans[j].key })
	o.printf("   Found %d orphaned file(s)\n", len(orphans))
	o.printf("   Total size: %s\n", FormatSize(total))
	if opt.DryRun {
		o.println("   [DRY-RUN] Would delete these orphaned files:")
		for _, f := range orphans[:min(listShown, len(orphans))] {
			o.printf("     - %s (%s)\n", f.key, FormatSize(f.size))
		}
		if len(orphans) > listShown {
			o.printf("     ... and %d more\n", len(orphans)-listShown)
		}
		return true, nil
	}
	a, err := o.confirm(ctx, fmt.Sprintf("\nWarning: Delete %d orphaned file(s) (%s)? [y/N]: ", len(orphans), FormatSize(total)),
		opt.Force, yesOrY)
	if err != nil {
		return false, err
	}
	if a != answerYes {
		o.println("   Skipped orphaned files cleanup.")
		return false, nil
	}
	var n int
	var freed int64
	var failed int
	for i, f := range orphans {
		// Checked again one by one: a row may have started to refer to the
		// file since the listing.
		if used, err := d.DB.FileReferenced(ctx, f.key); err != nil || used {
			if err != nil {
				return true, fmt.Errorf("checking %s: %w", f.key, err)
			}
			continue
		}
		if err := d.Files.Delete(ctx, f.key); err != nil && !errors.Is(err, files.ErrNotFound) {
			failed++
			o.printf("     Failed to delete %s: %v\n", f.key, err)
			continue
		}
		_ = d.DB.ForgetFile(ctx, f.key)
		n++
		freed += f.size
		if len(orphans) <= 100 {
			o.printf("     Deleted: %s\n", f.key)
		} else if (i+1)%progressEvery == 0 {
			o.printf("   ... %d of %d deleted\n", i+1, len(orphans))
		}
	}
	o.printf("   ✅ Deleted %d orphaned file(s) (%s freed)\n", n, FormatSize(freed))
	if failed > 0 {
		return true, failf("%d file(s) could not be deleted", failed)
	}
	return true, nil
}

// FormatSize prints a byte count as the original did: B, KB, MB or GB
// (powers of 1024) with one decimal ("0 B" for nothing).
func FormatSize(n int64) string {
	if n == 0 {
		return "0 B"
	}
	units := []string{"B", "KB", "MB", "GB"}
	size := float64(n)
	i := 0
	for size >= 1024 && i < len(units)-1 {
		size /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", size, units[i])
}

// pyTime prints a time the way Python prints an aware datetime.
func pyTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05") + "+00:00"
	}
	return t.Format("2006-01-02 15:04:05.000000") + "+00:00"
}
