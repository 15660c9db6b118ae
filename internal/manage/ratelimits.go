package manage

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/cvimprover/cvimprover/internal/accounts"
	"github.com/cvimprover/cvimprover/internal/ratelimit"
	"github.com/cvimprover/cvimprover/internal/store"
)

// Rate-limit actions (REFERENCE §9.3).
var rateLimitActions = []string{"status", "reset", "block-ip", "unblock-ip", "list-blocked", "clear-all"}

// rateLimitScopes are --scope's choices.
var rateLimitScopes = []string{"ai_responses", "questionnaires", "api_calls", "uploads", "all"}

// MsgNoSharedState explains why the commands cannot act without Redis.
const MsgNoSharedState = "rate limits are kept in the server process; set REDIS_URL to manage them from the command line"

// RateLimitOptions are manage-rate-limits' action and flags.
type RateLimitOptions struct {
	Action   string
	User     string
	IP       string
	Scope    string
	Duration int // minutes
	Yes      bool
}

func parseRateLimits(fs *flag.FlagSet, args []string) (runner, error) {
	var opt RateLimitOptions
	fs.StringVar(&opt.User, "user", "", "username (or e-mail) for status and reset")
	fs.StringVar(&opt.IP, "ip", "", "IP address for block-ip and unblock-ip")
	fs.StringVar(&opt.Scope, "scope", "all", "ai_responses, questionnaires, api_calls, uploads or all")
	fs.IntVar(&opt.Duration, "duration", 15, "block duration in minutes")
	fs.BoolVar(&opt.Yes, "yes", false, "do not ask before clear-all")
	fs.BoolVar(&opt.Yes, "force", false, "same as --yes")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: cvimprover manage-rate-limits <%s> [flags]\n", strings.Join(rateLimitActions, "|"))
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) == 0 {
		return nil, usagef("an action is required: %s", strings.Join(rateLimitActions, ", "))
	}
	if len(pos) > 1 {
		return nil, usagef("unexpected argument %q", pos[1])
	}
	opt.Action = pos[0]
	if err := opt.validate(); err != nil {
		return nil, err
	}
	return func(ctx context.Context, o *IO, d Deps) error { return ManageRateLimits(ctx, o, d, opt) }, nil
}

func (opt *RateLimitOptions) validate() error {
	if !slices.Contains(rateLimitActions, opt.Action) {
		return usagef("unknown action %q (choose from %s)", opt.Action, strings.Join(rateLimitActions, ", "))
	}
	if opt.Scope == "" {
		opt.Scope = "all"
	}
	if !slices.Contains(rateLimitScopes, opt.Scope) {
		return usagef("invalid --scope %q (choose from %s)", opt.Scope, strings.Join(rateLimitScopes, ", "))
	}
	opt.User, opt.IP = strings.TrimSpace(opt.User), strings.TrimSpace(opt.IP)
	switch opt.Action {
	case "status", "reset":
		if opt.User == "" {
			return usagef("--user is required for %s action", opt.Action)
		}
	case "block-ip", "unblock-ip":
		if opt.IP == "" {
			return usagef("--ip is required for %s action", opt.Action)
		}
		if _, err := netip.ParseAddr(opt.IP); err != nil {
			return usagef("--ip %q is not an IP address", opt.IP)
		}
		if opt.Action == "block-ip" && opt.Duration <= 0 {
			return usagef("--duration must be a positive number of minutes")
		}
	}
	return nil
}

// ManageRateLimits is manage-rate-limits. Every action works on the state the
// server enforces, which only a shared cache (Redis) lets another process
// see; without one it explains that and changes nothing. clear-all removes
// rate-limit counters and IP blocks only, never other cached data.
func ManageRateLimits(ctx context.Context, o *IO, d Deps, opt RateLimitOptions) error {
	if err := opt.validate(); err != nil {
		return err
	}
	if !d.SharedCache || d.Limits == nil {
		fmt.Fprintln(o.Err, "Note: "+MsgNoSharedState+".")
		return &Error{Code: ExitUsage}
	}
	l := d.Limits
	switch opt.Action {
	case "status":
		u, err := findUser(ctx, d.DB, opt.User)
		if err != nil {
			return err
		}
		return rateStatus(ctx, o, l, u, opt.Scope)
	case "reset":
		u, err := findUser(ctx, d.DB, opt.User)
		if err != nil {
			return err
		}
		var scopes []string
		shown := "ai_responses, questionnaires, api_calls, uploads, burst"
		if opt.Scope != "all" {
			scopes = []string{opt.Scope}
			shown = opt.Scope
		}
		if err := l.Reset(ctx, u.ID, scopes...); err != nil {
			return err
		}
		o.printf("✅ Rate limits reset for %s (scopes: %s)\n", u.Username, shown)
	case "block-ip":
		dur := time.Duration(opt.Duration) * time.Minute
		if err := l.BlockIP(ctx, opt.IP, dur); err != nil {
			return err
		}
		o.printf("🚫 IP %s blocked for %d minutes (until %s UTC)\n", opt.IP, opt.Duration,
			o.now().UTC().Add(dur).Format(time.DateTime))
	case "unblock-ip":
		was := l.IsBlocked(ctx, opt.IP)
		if err := l.UnblockIP(ctx, opt.IP); err != nil {
			return err
		}
		if was {
			o.printf("✅ IP %s unblocked\n", opt.IP)
		} else {
			o.printf("✅ IP %s unblocked (it was not blocked)\n", opt.IP)
		}
	case "list-blocked":
		blocks, err := l.ListBlocked(ctx)
		if err != nil {
			return err
		}
		if len(blocks) == 0 {
			o.println("No IPs are blocked.")
			return nil
		}
		o.printf("🚫 Blocked IPs (%d):\n", len(blocks))
		now := o.now()
		for _, b := range blocks {
			o.printf("  %s  until %s UTC (%s left)\n", b.IP, b.Until.UTC().Format(time.DateTime),
				b.Until.Sub(now).Round(time.Second))
		}
	case "clear-all":
		a, err := o.confirm(ctx, "⚠️  This will clear ALL rate limit counters and IP blocks. Are you sure? (yes/no): ", opt.Yes, yesOnly)
		if err != nil {
			return err
		}
		if a != answerYes {
			o.println("Cancelled.")
			return declinedf("clear-all not confirmed; nothing was cleared")
		}
		o.println("Clearing all rate limit counters...")
		n, err := l.ClearAll(ctx)
		if err != nil {
			return err
		}
		o.printf("✅ All rate limit counters cleared (%d key(s) removed; other cached data was left alone)\n", n)
	}
	return nil
}

// findUser looks a user up by username, else by e-mail.
func findUser(ctx context.Context, db *store.DB, who string) (accounts.User, error) {
	u, err := db.UserByUsername(ctx, db.Handle(), who)
	if errors.Is(err, store.ErrNotFound) {
		u, err = db.UserByEmail(ctx, db.Handle(), who)
	}
	if errors.Is(err, store.ErrNotFound) {
		return u, failf("User not found: %s", who)
	}
	return u, err
}

func rateStatus(ctx context.Context, o *IO, l *ratelimit.Limiter, u accounts.User, scope string) error {
	st, err := l.Status(ctx, ratelimit.Subject{UserID: u.ID, Plan: u.PlanName}, u.Username, u.Email)
	if err != nil {
		return err
	}
	plan := u.PlanName
	if plan == "" {
		plan = "No Plan (Free limits)"
	}
	o.printf("\n📊 Rate Limit Status for %s\n", u.Username)
	o.printf("Plan: %s\n", plan)
	o.println(strings.Repeat("-", 60))
	scopes := ratelimit.StatusScopes
	if scope != "all" {
		scopes = []string{scope}
	}
	for _, sc := range scopes {
		s, ok := st.RateLimits.Get(sc)
		if !ok {
			continue
		}
		o.printf("\n🔹 %s:\n", strings.ToUpper(strings.ReplaceAll(sc, "_", " ")))
		o.printf("  Limit: %d per %s\n", s.Limit, window(l.Table.Lookup(u.PlanOrFree(), sc).Window))
		o.printf("  Used: %d\n", s.Used)
		o.printf("  Remaining: %d\n", s.Remaining)
		reset := s.ResetAt
		if t, err := time.Parse(ratelimit.TimeLayout, s.ResetAt); err == nil {
			reset = t.UTC().Format(time.DateTime) + " UTC"
		}
		o.printf("  Resets at: %s\n", reset)
	}
	o.println()
	return nil
}

// window names a rate window in words ("day", "2 hours").
func window(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d >= u.d && d%u.d == 0 {
			if n := d / u.d; n != 1 {
				return fmt.Sprintf("%d %ss", n, u.name)
			}
			return u.name
		}
	}
	return d.String()
}
