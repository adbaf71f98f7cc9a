package calendar

import (
	"errors"
	"fmt"
	"time"
)

// ErrPaused is returned by Clock.Deadline while the clock is paused: the
// deadline depends on when it resumes.
var ErrPaused = errors.New("calendar: clock is paused")

// Clock measures one time limit of a case across pauses. While a case is
// hung (挂账) or waits for an approval, its clock stops; an extension (延期)
// adds to the limit. Rebuild a Clock by replaying the case's stored events
// and store the resulting Deadline, recomputing it only when another event
// arrives.
//
// A Clock is not safe for concurrent use.
type Clock struct {
	cal     *Calendar
	natural bool
	limit   time.Duration
	closed  []span    // run periods that a Pause ended
	running time.Time // start of the current run; zero while paused
	last    time.Time // latest event, to refuse events out of order
}

// NewClock starts a clock at start with the given limit. Natural limits
// count natural time while running; work limits count working time, with a
// work day counted as the calendar's working-day hours even under
// WorkDayAsCalendarDays, because "the same clock time N days later" has no
// meaning once the clock has stopped mid-day.
func (c *Calendar) NewClock(start time.Time, limit Duration) (*Clock, error) {
	l, err := limit.span(c.dayHours)
	if err != nil {
		return nil, err
	}
	start = start.In(c.loc)
	return &Clock{cal: c, natural: limit.Unit.Natural(), limit: l, running: start, last: start}, nil
}

// Pause stops the clock at at.
func (k *Clock) Pause(at time.Time) error {
	if err := k.event(at); err != nil {
		return err
	}
	if k.Paused() {
		return fmt.Errorf("calendar: pause at %s: clock already paused", at)
	}
	k.closed = append(k.closed, span{k.running, at.In(k.cal.loc)})
	k.running, k.last = time.Time{}, at
	return nil
}

// Resume restarts a paused clock at at.
func (k *Clock) Resume(at time.Time) error {
	if err := k.event(at); err != nil {
		return err
	}
	if !k.Paused() {
		return fmt.Errorf("calendar: resume at %s: clock is running", at)
	}
	k.running, k.last = at.In(k.cal.loc), at
	return nil
}

func (k *Clock) event(at time.Time) error {
	if at.Before(k.last) {
		return fmt.Errorf("calendar: clock event at %s is before the previous one at %s", at, k.last)
	}
	return nil
}

// Extend adds d to the limit. An extension must count the same kind of
// time as the limit: natural and working time do not add up.
func (k *Clock) Extend(d Duration) error {
	if d.Unit.valid() && d.Unit.Natural() != k.natural {
		return fmt.Errorf("%w: extension %s does not match the limit's kind of time", ErrInvalidDuration, d)
	}
	l, err := d.span(k.cal.dayHours)
	if err != nil {
		return err
	}
	if k.limit+l > MaxSpan {
		return fmt.Errorf("%w: limit with extension exceeds %s", ErrInvalidDuration, MaxSpan)
	}
	k.limit += l
	return nil
}

// Paused reports whether the clock is stopped.
func (k *Clock) Paused() bool { return k.running.IsZero() }

// Limit returns the limit including extensions, as working (or, for a
// natural limit, natural) time.
func (k *Clock) Limit() time.Duration { return k.limit }

// Elapsed returns the time counted up to now: working time (or natural
// time) while the clock ran, never time while it was paused.
func (k *Clock) Elapsed(now time.Time) time.Duration {
	var sum time.Duration
	for _, s := range k.closed {
		sum += k.measure(s.start, minTime(s.end, now))
	}
	if !k.Paused() {
		sum += k.measure(k.running, now)
	}
	return sum
}

// Remaining returns the limit minus Elapsed(now); negative when overdue.
func (k *Clock) Remaining(now time.Time) time.Duration {
	return k.limit - k.Elapsed(now)
}

// Deadline returns when the limit runs out if the clock keeps running. It
// is in the past for a case that went overdue before it was paused, and
// ErrPaused while the clock is stopped short of its limit.
func (k *Clock) Deadline() (time.Time, error) {
	rem := k.limit
	for _, s := range k.closed {
		l := k.measure(s.start, s.end)
		if rem <= l {
			return k.add(s.start, rem)
		}
		rem -= l
	}
	if k.Paused() {
		return time.Time{}, ErrPaused
	}
	return k.add(k.running, rem)
}

// measure returns the counted time in [a, b), zero when b is not after a.
func (k *Clock) measure(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	if k.natural {
		return b.Sub(a)
	}
	return k.cal.Between(a, b)
}

func (k *Clock) add(t time.Time, d time.Duration) (time.Time, error) {
	if k.natural {
		return t.Add(d), nil
	}
	return k.cal.addWork(t, d)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
