package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// errCircuitOpen is returned without touching the network while the breaker cools down.
var errCircuitOpen = fmt.Errorf("%w: circuit open, redis failed recently", ErrUnavailable)

// breaker stops every request from waiting out a dial/read timeout during an outage: after
// one failure, calls fail at once for the cool-down, then a single call probes; its success
// closes the breaker, its failure starts another cool-down.
type breaker struct {
	cooldown  time.Duration
	openUntil atomic.Int64 // unix nanos; 0 = closed
	probing   atomic.Bool
	log       *slog.Logger
	addr      string
}

// allow reports whether a call may go to Redis and whether it is the half-open probe.
func (b *breaker) allow() (probe bool, err error) {
	until := b.openUntil.Load()
	if until == 0 {
		return false, nil
	}
	if time.Now().UnixNano() < until {
		return false, errCircuitOpen
	}
	if b.probing.CompareAndSwap(false, true) {
		return true, nil
	}
	return false, errCircuitOpen
}

func (b *breaker) success(probe bool) {
	if b.openUntil.Load() != 0 && b.openUntil.Swap(0) != 0 {
		b.log.Info("cache: redis reachable again", "addr", b.addr)
	}
	if probe {
		b.probing.Store(false)
	}
}

func (b *breaker) failure(probe bool, err error) {
	if b.openUntil.Swap(time.Now().Add(b.cooldown).UnixNano()) == 0 {
		b.log.Warn("cache: redis unavailable, failing fast", "addr", b.addr, "cooldown", b.cooldown, "err", err)
	}
	if probe {
		b.probing.Store(false)
	}
}

// abandon ends a call that says nothing about Redis (the caller's context ended first).
func (b *breaker) abandon(probe bool) {
	if probe {
		b.probing.Store(false)
	}
}

// serverUnavailablePrefixes are Redis error replies that mean "cannot serve now" rather than
// "your command is wrong": loading a dataset, failover, memory full, persistence failure.
var serverUnavailablePrefixes = []string{
	"LOADING", "MASTERDOWN", "BUSY", "TRYAGAIN", "CLUSTERDOWN", "OOM", "READONLY",
	"MISCONF", "NOREPLICAS", "ERR max number of clients",
}

// isOutage separates failures of the service (network, timeouts, pool exhaustion, refusals
// listed above) from answers (redis.Nil, WRONGTYPE, script errors), which must not trip the
// breaker.
func isOutage(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, redis.ErrClosed) {
		return false
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		for _, p := range serverUnavailablePrefixes {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	return true
}

// guard runs fn through the breaker and wraps outage errors in ErrUnavailable.
func (r *Redis) guard(ctx context.Context, fn func() error) error {
	probe, err := r.br.allow()
	if err != nil {
		r.stats.errors.Add(1)
		return err
	}
	settled := false
	defer func() {
		// A panic inside fn must not leave the probe slot taken, or the breaker never closes.
		if !settled {
			r.br.abandon(probe)
		}
	}()
	err = fn()
	settled = true
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		r.br.success(probe)
		return err
	case !isOutage(err):
		r.br.success(probe)
		r.stats.errors.Add(1)
		return err
	case ctx.Err() != nil:
		r.br.abandon(probe)
		r.stats.errors.Add(1)
		return err
	default:
		r.br.failure(probe, err)
		r.stats.errors.Add(1)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
}
