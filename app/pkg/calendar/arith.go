package calendar

import (
	"fmt"
	"math"
	"time"
)

// maxScanDays bounds how far ahead Add looks. With MaxSpan and any calendar
// New accepts, a real deadline is found long before; the bound only turns a
// pathological calendar (one minute of work a week) into ErrOutOfRange
// instead of a hang.
const maxScanDays = 100 * 366

// Add returns the deadline d after start, in the calendar's zone.
//
// Work units count only working time: a start outside working hours
// begins at the next working moment, and a deadline may land on the end
// of a working period (12:00 rather than 14:30), the last moment that is
// still on time. Natural units return start+d whatever the calendar says.
// Work days follow the calendar's WorkDayMode.
//
// The duration is rounded to the second; the start keeps its precision.
// Add fails for an invalid duration (negative, NaN, beyond MaxSpan).
func (c *Calendar) Add(start time.Time, d Duration) (time.Time, error) {
	start = start.In(c.loc)
	span, err := d.span(c.dayHours)
	if err != nil {
		return time.Time{}, err
	}
	switch {
	case d.Unit.Natural():
		return start.Add(span), nil
	case d.Unit == WorkDay && c.mode == WorkDayAsCalendarDays:
		return c.addDays(start, d.Amount)
	}
	return c.addWork(start, span)
}

// AddStages computes staged deadlines, each counted from the previous one:
// 停工 4 工作时, then 处罚 7 工作日, then 拆除 20 工作日.
func (c *Calendar) AddStages(start time.Time, stages []Duration) ([]time.Time, error) {
	out := make([]time.Time, len(stages))
	at := start
	for i, d := range stages {
		t, err := c.Add(at, d)
		if err != nil {
			return nil, fmt.Errorf("stage %d: %w", i+1, err)
		}
		out[i], at = t, t
	}
	return out, nil
}

// Next returns t if it is working time, or else the next moment that is.
func (c *Calendar) Next(t time.Time) (time.Time, error) {
	return c.addWork(t.In(c.loc), 0)
}

// addWork adds rem of working time to start.
func (c *Calendar) addWork(start time.Time, rem time.Duration) (time.Time, error) {
	d := DateOf(start)
	var buf [4]span
	for range maxScanDays {
		for _, s := range c.spans(d, buf[:0]) {
			if !s.end.After(start) {
				continue
			}
			cur := s.start
			if start.After(cur) {
				cur = start
			}
			avail := s.end.Sub(cur)
			if rem <= avail {
				return cur.Add(rem), nil
			}
			rem -= avail
		}
		d = d.AddDays(1)
	}
	return time.Time{}, fmt.Errorf("%w: no working time found within %d days of %s", ErrOutOfRange, maxScanDays, start)
}

// addDays implements WorkDayAsCalendarDays: the same position (working time
// into the day) on the Nth following working day, then the fraction as
// hours of WorkDayHours.
func (c *Calendar) addDays(start time.Time, amount float64) (time.Time, error) {
	whole := math.Floor(amount)
	frac := time.Duration(math.Round((amount-whole)*c.dayHours.Seconds())) * time.Second
	cur, err := c.addWork(start, 0)
	if err != nil {
		return time.Time{}, err
	}
	d := DateOf(cur)
	pos := c.Between(c.at(d, 0), cur)
	for n, i := int(whole), 0; n > 0; i++ {
		if i == maxScanDays {
			return time.Time{}, fmt.Errorf("%w: fewer than %g working days within %d days of %s", ErrOutOfRange, whole, maxScanDays, start)
		}
		d = d.AddDays(1)
		// Count days with actual working periods, not merely working days,
		// so that position always has a period to land in.
		var buf [4]span
		if len(c.spans(d, buf[:0])) > 0 {
			n--
		}
	}
	t := c.position(d, pos)
	if frac == 0 {
		return t, nil
	}
	return c.addWork(t, frac)
}

// position returns the instant on working day d after pos of its working
// time. On a boundary between two periods it picks the start of the later
// one, so that Monday 14:30 maps to Tuesday 14:30 rather than to Tuesday
// 12:00; past the day's end it returns the end of the last period.
func (c *Calendar) position(d Date, pos time.Duration) time.Time {
	var buf [4]span
	spans := c.spans(d, buf[:0]) // never empty: addDays only stops on days with spans
	for _, s := range spans {
		l := s.end.Sub(s.start)
		if pos < l {
			return s.start.Add(pos)
		}
		pos -= l
	}
	return spans[len(spans)-1].end
}

// Between returns the working time in [a, b); it is negative when b is
// before a. For work hours it inverts Add: Between(t, Add(t, d)) == d. Its
// cost grows with the number of days between a and b.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if b.Before(a) {
		return -c.Between(b, a)
	}
	a, b = a.In(c.loc), b.In(c.loc)
	var sum time.Duration
	var buf [4]span
	last := DateOf(b)
	for d := DateOf(a); !last.Before(d); d = d.AddDays(1) {
		for _, s := range c.spans(d, buf[:0]) {
			lo, hi := s.start, s.end
			if a.After(lo) {
				lo = a
			}
			if b.Before(hi) {
				hi = b
			}
			if hi.After(lo) {
				sum += hi.Sub(lo)
			}
		}
	}
	return sum
}
