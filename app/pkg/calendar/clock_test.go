package calendar_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/calendar"
)

func TestClock(t *testing.T) {
	t.Parallel()
	c := calendars(t)["national"] // 08:00-12:00, 14:30-17:30
	k, err := c.NewClock(at(2025, 3, 3, 8, 0), calendar.WorkHours(7))
	if err != nil {
		t.Fatal(err)
	}
	step := func(name string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	wantDeadline := func(want time.Time) {
		t.Helper()
		got, err := k.Deadline()
		if err != nil || !got.Equal(want) {
			t.Errorf("Deadline = %s, %v; want %s", got, err, want)
		}
	}
	wantDeadline(at(2025, 3, 3, 17, 30))

	// Hung (挂账) at 10:00 Monday after 2 working hours.
	step("pause", k.Pause(at(2025, 3, 3, 10, 0)))
	if _, err := k.Deadline(); !errors.Is(err, calendar.ErrPaused) {
		t.Errorf("Deadline while paused: %v, want ErrPaused", err)
	}
	if got := k.Elapsed(at(2025, 3, 4, 16, 0)); got != 2*time.Hour {
		t.Errorf("Elapsed during pause = %s, want 2h", got)
	}
	// Resumed Wednesday 08:00: 5 hours left, 4 in the morning and 1 after
	// lunch.
	step("resume", k.Resume(at(2025, 3, 5, 8, 0)))
	wantDeadline(at(2025, 3, 5, 15, 30))
	// 延期 by one working hour.
	step("extend", k.Extend(calendar.WorkHours(1)))
	wantDeadline(at(2025, 3, 5, 16, 30))
	if got := k.Remaining(at(2025, 3, 5, 12, 0)); got != 2*time.Hour {
		t.Errorf("Remaining = %s, want 2h", got)
	}
	if got := k.Limit(); got != 8*time.Hour {
		t.Errorf("Limit = %s, want 8h", got)
	}
	// Thursday noon: 2h Monday + 7h Wednesday + 4h Thursday = 13h of 8h.
	if got := k.Remaining(at(2025, 3, 6, 12, 0)); got != -5*time.Hour {
		t.Errorf("Remaining when overdue = %s, want -5h", got)
	}
}

func TestClockOverdueBeforePause(t *testing.T) {
	t.Parallel()
	c := calendars(t)["national"]
	k, _ := c.NewClock(at(2025, 3, 3, 8, 0), calendar.WorkHours(1))
	if err := k.Pause(at(2025, 3, 3, 10, 0)); err != nil {
		t.Fatal(err)
	}
	// The limit ran out before the pause: the deadline is known and past.
	got, err := k.Deadline()
	if err != nil || !got.Equal(at(2025, 3, 3, 9, 0)) {
		t.Errorf("Deadline = %s, %v; want 09:00", got, err)
	}
	if r := k.Remaining(at(2025, 3, 10, 9, 0)); r != -time.Hour {
		t.Errorf("Remaining = %s, want -1h", r)
	}
}

func TestClockNatural(t *testing.T) {
	t.Parallel()
	c := calendars(t)["national"]
	// An emergency on a holiday night: 10 natural minutes, paused for 15.
	k, _ := c.NewClock(at(2026, 2, 16, 23, 55), calendar.NaturalMinutes(10))
	if err := k.Pause(at(2026, 2, 17, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if err := k.Resume(at(2026, 2, 17, 0, 15)); err != nil {
		t.Fatal(err)
	}
	got, err := k.Deadline()
	if err != nil || !got.Equal(at(2026, 2, 17, 0, 20)) {
		t.Errorf("Deadline = %s, %v; want 00:20", got, err)
	}
	if err := k.Extend(calendar.WorkHours(1)); !errors.Is(err, calendar.ErrInvalidDuration) {
		t.Errorf("Extend with work hours: %v, want ErrInvalidDuration", err)
	}
}

func TestClockWorkDaysCountAsHours(t *testing.T) {
	t.Parallel()
	c := calendars(t)["days"] // calendar_days mode, 7-hour work day
	k, _ := c.NewClock(at(2025, 3, 3, 8, 0), calendar.WorkDays(2))
	if got := k.Limit(); got != 14*time.Hour {
		t.Errorf("Limit = %s, want 14h", got)
	}
}

func TestClockEventOrder(t *testing.T) {
	t.Parallel()
	c := calendars(t)["national"]
	tests := []struct {
		name string
		run  func(k *calendar.Clock) error
	}{
		{"resume while running", func(k *calendar.Clock) error { return k.Resume(at(2025, 3, 3, 9, 0)) }},
		{"pause twice", func(k *calendar.Clock) error {
			_ = k.Pause(at(2025, 3, 3, 9, 0))
			return k.Pause(at(2025, 3, 3, 10, 0))
		}},
		{"pause before start", func(k *calendar.Clock) error { return k.Pause(at(2025, 3, 3, 7, 0)) }},
		{"resume before pause", func(k *calendar.Clock) error {
			_ = k.Pause(at(2025, 3, 3, 10, 0))
			return k.Resume(at(2025, 3, 3, 9, 0))
		}},
		{"negative extension", func(k *calendar.Clock) error { return k.Extend(calendar.WorkHours(-1)) }},
		{"extension past MaxSpan", func(k *calendar.Clock) error {
			_ = k.Extend(calendar.WorkHours(99_999))
			return k.Extend(calendar.WorkHours(99_999))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, _ := c.NewClock(at(2025, 3, 3, 8, 0), calendar.WorkHours(4))
			if err := tt.run(k); err == nil {
				t.Error("accepted")
			}
		})
	}
	if _, err := c.NewClock(at(2025, 3, 3, 8, 0), calendar.WorkHours(-4)); err == nil {
		t.Error("NewClock accepted a negative limit")
	}
}
