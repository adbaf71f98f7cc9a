package server

import (
	"math"
	"strconv"
	"sync"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"golang.org/x/time/rate"
)

// RateLimiter keeps a token bucket per key ("addr:<ip>" for public
// operations such as login, the subject for authenticated callers). Buckets
// live in this process: each replica limits on its own, which bounds
// abuse per replica without a shared store.
type RateLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	// per-key-class limits
	addr, subject limit
	max           int
	now           func() time.Time
}

type limit struct {
	rate  rate.Limit
	burst int
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// RateLimits configures the limiter; zero values take the defaults.
type RateLimits struct {
	// AddrPerSecond/AddrBurst limit public calls per source address
	// (default 5/s, burst 20: a person never types passwords faster).
	AddrPerSecond float64
	AddrBurst     int
	// SubjectPerSecond/SubjectBurst limit calls per user or API key
	// (default 100/s, burst 200).
	SubjectPerSecond float64
	SubjectBurst     int
	// MaxKeys bounds memory; idle buckets are evicted beyond it.
	MaxKeys int
}

// NewRateLimiter returns a limiter with l's limits.
func NewRateLimiter(l RateLimits) *RateLimiter {
	if l.AddrPerSecond <= 0 {
		l.AddrPerSecond = 5
	}
	if l.AddrBurst <= 0 {
		l.AddrBurst = 20
	}
	if l.SubjectPerSecond <= 0 {
		l.SubjectPerSecond = 100
	}
	if l.SubjectBurst <= 0 {
		l.SubjectBurst = 200
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = 100_000
	}
	return &RateLimiter{
		buckets: make(map[string]*bucket),
		addr:    limit{rate.Limit(l.AddrPerSecond), l.AddrBurst},
		subject: limit{rate.Limit(l.SubjectPerSecond), l.SubjectBurst},
		max:     l.MaxKeys,
		now:     time.Now,
	}
}

// Allow takes a token for key or answers RATE_LIMITED with the seconds to
// wait in retry_after.
func (r *RateLimiter) Allow(key string) error {
	if r == nil {
		return nil
	}
	lim := r.subject
	if len(key) > 5 && key[:5] == "addr:" {
		lim = r.addr
	}
	now := r.now()
	r.mu.Lock()
	b, ok := r.buckets[key]
	if !ok {
		if len(r.buckets) >= r.max {
			r.evict(now)
		}
		b = &bucket{l: rate.NewLimiter(lim.rate, lim.burst)}
		r.buckets[key] = b
	}
	b.seen = now
	res := b.l.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if delay > 0 {
		res.CancelAt(now)
	}
	r.mu.Unlock()
	if delay > 0 {
		secs := int(math.Ceil(delay.Seconds()))
		return errorsv1.ErrorRateLimited("rate limited").WithMetadata(map[string]string{"retry_after": strconv.Itoa(secs)})
	}
	return nil
}

// evict drops buckets idle for a minute, or all of them when none is.
func (r *RateLimiter) evict(now time.Time) {
	for k, b := range r.buckets {
		if now.Sub(b.seen) > time.Minute {
			delete(r.buckets, k)
		}
	}
	if len(r.buckets) >= r.max {
		r.buckets = make(map[string]*bucket)
	}
}
