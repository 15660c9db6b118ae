package ratelimit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cvimprover/cvimprover/internal/cache"
)

var (
	// ErrUnknownScope: the scope is not one of the Scope constants (or not valid here).
	ErrUnknownScope = errors.New("ratelimit: unknown scope")
	// ErrNoIdentity: a per-user scope without a user, or a per-IP scope without an IP.
	ErrNoIdentity = errors.New("ratelimit: no identity for scope")
	// ErrNoKV: an administrative operation on a Limiter built without KV.
	ErrNoKV = errors.New("ratelimit: no key/value store configured")
)

// DefaultPrefix is the namespace of every key this package writes (inside the cache's own prefix).
const DefaultPrefix = "rl:"

// Subject is who a request is counted against. UserID 0 means anonymous.
type Subject struct {
	UserID int64
	// Plan is the user's plan name as stored ("" = no plan → Free).
	Plan string
	// IP is the client address as the HTTP layer determined it (trusted proxies applied).
	IP string
}

// Anonymous reports whether s has no user.
func (s Subject) Anonymous() bool { return s.UserID == 0 }

// Decision is the outcome of a check (or a peek) of one scope.
type Decision struct {
	Scope string
	// Plan is the table plan whose rate applied: Free…Premium, anonymous, or "" for ScopeIP.
	Plan    string
	Allowed bool
	Limit   int
	// Used is the number of hits in the window, including this one when allowed.
	Used      int
	Remaining int
	Window    time.Duration
	// At is the instant the check was judged at; Refund needs it.
	At time.Time
	// ResetAt is when a unit comes back: when the oldest counted hit leaves the window (At +
	// Window if none), and never earlier than At + RetryAfter when refused.
	ResetAt time.Time
	// RetryAfter is whole seconds, rounded up, until a hit would be allowed: at least 1 when
	// refused, 0 when allowed.
	RetryAfter int
}

// KV is the part of cache.Cache the administrative operations need.
type KV interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
	DeletePrefix(ctx context.Context, prefix string) (int, error)
}

// Store is what a Limiter counts in: an exact sliding log for the quota
// scopes and a sliding-window counter for the rates (see approximate).
type Store interface {
	cache.Limiter
	cache.Counter
}

// approximate reports whether scope is counted with the sliding-window
// counter instead of the exact log. The rates (per-IP ceiling, burst,
// api_calls) are checked on nearly every request and run into hundreds or
// thousands per window, where a log of every hit costs a sorted set per
// caller and several times the work per check; an estimate is what a rate
// needs. The quotas (ai_responses, questionnaires, uploads) are a few a day,
// counted exactly: "3 generations a day" means 3 in any 24 hours.
func approximate(scope string) bool {
	return scope == ScopeAPICalls || scope == ScopeBurst || scope == ScopeIP
}

// Limiter applies a Table to a Store. Store and Table are required for checks;
// KV for Reset, ClearAll and IP blocks. Zero Now is time.Now, zero Prefix DefaultPrefix.
type Limiter struct {
	Store  Store
	KV     KV
	Table  Table
	Now    func() time.Time
	Prefix string
}

// New returns a Limiter using c for both counting and administration.
func New(c cache.Cache, t Table) *Limiter {
	return &Limiter{Store: c, KV: c, Table: t}
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Limiter) prefix() string {
	if l.Prefix != "" {
		return l.Prefix
	}
	return DefaultPrefix
}

// canonicalIP makes the textual forms of one address share a key (IPv4-mapped IPv6 as IPv4,
// zero-compressed IPv6); anything unparsable is used as given.
func canonicalIP(ip string) string {
	ip = strings.TrimSpace(ip)
	if a, err := netip.ParseAddr(ip); err == nil {
		return a.Unmap().String()
	}
	return ip
}

// resolve returns the counter key and the rate of scope for s.
func (l *Limiter) resolve(scope string, s Subject) (key, plan string, r Rate, err error) {
	if !knownScope(scope) {
		return "", "", Rate{}, fmt.Errorf("%w %q", ErrUnknownScope, scope)
	}
	perIP := scope == ScopeIP || (scope == ScopeBurst && s.Anonymous())
	switch {
	case perIP && strings.TrimSpace(s.IP) == "":
		return "", "", Rate{}, fmt.Errorf("%w %q: no client IP", ErrNoIdentity, scope)
	case scope == ScopeIP:
		plan = ""
	case s.Anonymous() && scope != ScopeBurst:
		return "", "", Rate{}, fmt.Errorf("%w %q: needs a user", ErrNoIdentity, scope)
	case s.Anonymous():
		plan = PlanAnonymous
	default:
		plan = CanonicalPlan(s.Plan)
	}
	if perIP {
		key = l.prefix() + scope + ":ip:" + canonicalIP(s.IP)
	} else {
		key = l.userKey(scope, s.UserID)
	}
	return key, plan, l.Table.Lookup(plan, scope), nil
}

func (l *Limiter) userKey(scope string, userID int64) string {
	return l.prefix() + scope + ":" + strconv.FormatInt(userID, 10)
}

func convert(scope, plan string, d cache.Decision, r Rate, at time.Time) Decision {
	out := Decision{
		Scope: scope, Plan: plan, Allowed: d.Allowed,
		Limit: r.Limit, Used: d.Count, Remaining: d.Remaining(),
		Window: r.Window, At: at, ResetAt: d.ResetAt.UTC(),
	}
	if !d.Allowed {
		out.RetryAfter = max(1, int(math.Ceil(d.RetryAfter.Seconds())))
		if free := at.Add(d.RetryAfter).UTC(); free.After(out.ResetAt) {
			out.ResetAt = free
		}
	}
	return out
}

// Check counts one hit of scope for s if the limit allows it (atomically: concurrent checks
// on any number of instances sharing Redis never admit more than the limit). A refused hit
// is not counted.
func (l *Limiter) Check(ctx context.Context, scope string, s Subject) (Decision, error) {
	return l.check(ctx, scope, s, l.now())
}

func (l *Limiter) check(ctx context.Context, scope string, s Subject, now time.Time) (Decision, error) {
	key, plan, r, err := l.resolve(scope, s)
	if err != nil {
		return Decision{}, err
	}
	var d cache.Decision
	if approximate(scope) {
		d, err = l.Store.Count(ctx, key, "", r.Limit, r.Window, now)
	} else {
		d, err = l.Store.Hit(ctx, key, r.Limit, r.Window, now)
	}
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: check %s: %w", scope, err)
	}
	return convert(scope, plan, d, r, now), nil
}

// CheckAll checks scopes in order at one instant and stops at the first refusal, which is
// then the last element. A refused request consumes nothing: the units taken by the scopes
// before the refusal are given back, so a request refused for ai_responses does not also eat
// into burst or api_calls. On error the units taken so far are given back too.
func (l *Limiter) CheckAll(ctx context.Context, s Subject, scopes ...string) ([]Decision, error) {
	return l.checkAllAt(ctx, s, l.now(), scopes...)
}

func (l *Limiter) checkAllAt(ctx context.Context, s Subject, now time.Time, scopes ...string) ([]Decision, error) {
	ds := make([]Decision, 0, len(scopes))
	giveBack := func() {
		// Best effort: failing to return a unit costs the user one unit, not correctness.
		for _, d := range ds {
			if d.Allowed {
				_ = l.Refund(ctx, d.Scope, s, now)
			}
		}
	}
	for _, scope := range scopes {
		d, err := l.check(ctx, scope, s, now)
		if err != nil {
			giveBack()
			return nil, err
		}
		if !d.Allowed {
			giveBack()
			return append(ds, d), nil
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// Tightest picks the decision to describe in the response headers: the refusal if there is
// one, else the scope with the fewest remaining units (the first of equals). Empty input
// gives the zero Decision.
func Tightest(ds []Decision) Decision {
	var best Decision
	for i, d := range ds {
		if !d.Allowed {
			return d
		}
		if i == 0 || d.Remaining < best.Remaining {
			best = d
		}
	}
	return best
}

// Peek reports what Check would decide, counting nothing.
func (l *Limiter) Peek(ctx context.Context, scope string, s Subject) (Decision, error) {
	return l.peek(ctx, scope, s, l.now())
}

func (l *Limiter) peek(ctx context.Context, scope string, s Subject, now time.Time) (Decision, error) {
	key, plan, r, err := l.resolve(scope, s)
	if err != nil {
		return Decision{}, err
	}
	var d cache.Decision
	if approximate(scope) {
		d, err = l.Store.CountPeek(ctx, key, r.Limit, r.Window, now)
	} else {
		d, err = l.Store.Peek(ctx, key, r.Limit, r.Window, now)
	}
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: peek %s: %w", scope, err)
	}
	return convert(scope, plan, d, r, now), nil
}

// Refund gives back the unit an allowed Check took at at (Decision.At), e.g. when the
// upstream AI call it paid for failed (CONTRACT §5). Only call it for an allowed decision:
// otherwise it returns a unit some earlier request paid for.
func (l *Limiter) Refund(ctx context.Context, scope string, s Subject, at time.Time) error {
	key, _, r, err := l.resolve(scope, s)
	if err != nil {
		return err
	}
	if approximate(scope) {
		err = l.Store.Uncount(ctx, key, r.Window, at)
	} else {
		err = l.Store.Undo(ctx, key, at)
	}
	if err != nil {
		return fmt.Errorf("ratelimit: refund %s: %w", scope, err)
	}
	return nil
}

func (l *Limiter) kv() (KV, error) {
	if l.KV == nil {
		return nil, ErrNoKV
	}
	return l.KV, nil
}

// Reset deletes a user's counters for the given scopes (manage-rate-limits reset); no
// scopes means all per-user scopes (ai_responses, questionnaires, api_calls, uploads, burst).
func (l *Limiter) Reset(ctx context.Context, userID int64, scopes ...string) error {
	kv, err := l.kv()
	if err != nil {
		return err
	}
	if userID <= 0 {
		return fmt.Errorf("%w: reset needs a user id", ErrNoIdentity)
	}
	if len(scopes) == 0 {
		scopes = userScopes
	}
	keys := make([]string, 0, len(scopes))
	for _, sc := range scopes {
		if !slices.Contains(userScopes, sc) {
			return fmt.Errorf("%w %q (a user has ai_responses, questionnaires, api_calls, uploads, burst)", ErrUnknownScope, sc)
		}
		if !approximate(sc) {
			keys = append(keys, l.userKey(sc, userID))
			continue
		}
		if l.Store == nil {
			return fmt.Errorf("ratelimit: reset %s: no store configured", sc)
		}
		// A counter's buckets depend on the window, which may differ by plan (RATE_LIMITS).
		now := l.now()
		var done []time.Duration
		for _, p := range plans {
			w := l.Table.Lookup(p, sc).Window
			if w <= 0 || slices.Contains(done, w) {
				continue
			}
			done = append(done, w)
			if err := l.Store.ClearCount(ctx, l.userKey(sc, userID), w, now); err != nil {
				return fmt.Errorf("ratelimit: reset %s: %w", sc, err)
			}
		}
	}
	if len(keys) > 0 {
		if err := kv.Delete(ctx, keys...); err != nil {
			return fmt.Errorf("ratelimit: reset: %w", err)
		}
	}
	return nil
}

// ClearAll deletes every key under the rate-limit prefix — counters and IP blocks — and
// nothing else in the cache (CONTRACT §5). It returns how many keys went.
func (l *Limiter) ClearAll(ctx context.Context) (int, error) {
	kv, err := l.kv()
	if err != nil {
		return 0, err
	}
	n, err := kv.DeletePrefix(ctx, l.prefix())
	if err != nil {
		return n, fmt.Errorf("ratelimit: clear all: %w", err)
	}
	return n, nil
}

// Block is an active IP block.
type Block struct {
	IP    string
	Until time.Time
}

func (l *Limiter) blockKey(ip string) string { return l.prefix() + "blocked:" + ip }

// The cache cannot enumerate keys, so ListBlocked reads an index of blocked IPs kept beside
// the blocks. The block keys are the truth (IsBlocked reads only them); the index is a
// best-effort list: two administrators blocking at the same instant may drop one entry from
// the list, never a block.
func (l *Limiter) indexKey() string { return l.prefix() + "blocked-index" }

// BlockIP blocks ip for d (manage-rate-limits block-ip); blocking again replaces the expiry.
func (l *Limiter) BlockIP(ctx context.Context, ip string, d time.Duration) error {
	kv, err := l.kv()
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return fmt.Errorf("ratelimit: block %q: not an IP address", ip)
	}
	if d <= 0 {
		return fmt.Errorf("ratelimit: block %s: duration must be positive, got %s", ip, d)
	}
	ip = a.Unmap().String()
	until := l.now().Add(d).UTC()
	val, _ := until.MarshalText()
	if err := kv.Set(ctx, l.blockKey(ip), val, d); err != nil {
		return fmt.Errorf("ratelimit: block %s: %w", ip, err)
	}
	return l.updateIndex(ctx, kv, func(idx map[string]time.Time) { idx[ip] = until })
}

// UnblockIP lifts a block (a missing one is not an error).
func (l *Limiter) UnblockIP(ctx context.Context, ip string) error {
	kv, err := l.kv()
	if err != nil {
		return err
	}
	ip = canonicalIP(ip)
	if err := kv.Delete(ctx, l.blockKey(ip)); err != nil {
		return fmt.Errorf("ratelimit: unblock %s: %w", ip, err)
	}
	return l.updateIndex(ctx, kv, func(idx map[string]time.Time) { delete(idx, ip) })
}

// IsBlocked reports whether ip is blocked. It fails open: a cache that cannot answer must
// not deny service to everyone (CONTRACT §9).
func (l *Limiter) IsBlocked(ctx context.Context, ip string) bool {
	if l.KV == nil || strings.TrimSpace(ip) == "" {
		return false
	}
	_, ok, err := l.KV.Get(ctx, l.blockKey(canonicalIP(ip)))
	return err == nil && ok
}

// ListBlocked returns the active blocks sorted by IP.
func (l *Limiter) ListBlocked(ctx context.Context) ([]Block, error) {
	kv, err := l.kv()
	if err != nil {
		return nil, err
	}
	idx, err := l.readIndex(ctx, kv)
	if err != nil {
		return nil, err
	}
	var out []Block
	for ip := range idx {
		val, ok, err := kv.Get(ctx, l.blockKey(ip))
		if err != nil {
			return nil, fmt.Errorf("ratelimit: list blocked: %w", err)
		}
		if !ok {
			continue
		}
		var until time.Time
		if until.UnmarshalText(val) != nil {
			until = idx[ip]
		}
		out = append(out, Block{IP: ip, Until: until})
	}
	slices.SortFunc(out, func(a, b Block) int { return strings.Compare(a.IP, b.IP) })
	return out, nil
}

func (l *Limiter) readIndex(ctx context.Context, kv KV) (map[string]time.Time, error) {
	idx := map[string]time.Time{}
	raw, ok, err := kv.Get(ctx, l.indexKey())
	if err != nil {
		return nil, fmt.Errorf("ratelimit: read block index: %w", err)
	}
	if ok {
		// A damaged index only loses the listing; start again rather than fail.
		_ = json.Unmarshal(raw, &idx)
	}
	return idx, nil
}

func (l *Limiter) updateIndex(ctx context.Context, kv KV, change func(map[string]time.Time)) error {
	idx, err := l.readIndex(ctx, kv)
	if err != nil {
		return err
	}
	change(idx)
	now := l.now()
	var last time.Time
	for ip, until := range idx {
		if !until.After(now) {
			delete(idx, ip)
		} else if until.After(last) {
			last = until
		}
	}
	if len(idx) == 0 {
		if err := kv.Delete(ctx, l.indexKey()); err != nil {
			return fmt.Errorf("ratelimit: write block index: %w", err)
		}
		return nil
	}
	raw, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	if err := kv.Set(ctx, l.indexKey(), raw, last.Sub(now)); err != nil {
		return fmt.Errorf("ratelimit: write block index: %w", err)
	}
	return nil
}
