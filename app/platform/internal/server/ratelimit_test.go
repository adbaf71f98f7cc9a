package server

import (
	"testing"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
)

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	l := NewRateLimiter(RateLimits{AddrPerSecond: 1, AddrBurst: 3, SubjectPerSecond: 10, SubjectBurst: 5, MaxKeys: 4})
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if err := l.Allow("addr:203.0.113.7"); err != nil {
			t.Fatalf("call %d within the burst refused: %v", i, err)
		}
	}
	err := l.Allow("addr:203.0.113.7")
	e := kerrors.FromError(err)
	if e == nil || e.Reason != "RATE_LIMITED" || e.Metadata["retry_after"] != "1" {
		t.Fatalf("over the burst: %v", err)
	}
	// Other addresses and subjects have their own buckets.
	if err := l.Allow("addr:198.51.100.1"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := l.Allow("user:12"); err != nil {
			t.Fatalf("subject call %d: %v", i, err)
		}
	}
	if err := l.Allow("user:12"); err == nil {
		t.Fatal("subject over its burst must be limited")
	}
	// Tokens come back with time.
	now = now.Add(time.Second)
	if err := l.Allow("addr:203.0.113.7"); err != nil {
		t.Fatalf("after a second: %v", err)
	}
	// Memory stays bounded: idle buckets are evicted past MaxKeys.
	now = now.Add(2 * time.Minute)
	for i := 0; i < 20; i++ {
		_ = l.Allow("addr:10.0.0." + string(rune('a'+i)))
	}
	if len(l.buckets) > 4 {
		t.Fatalf("%d buckets kept, max 4", len(l.buckets))
	}
	var nilLimiter *RateLimiter
	if err := nilLimiter.Allow("x"); err != nil {
		t.Fatal("a nil limiter allows everything")
	}
}
