package calendar_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/calendar"
)

// The property tests draw thousands of random starts in 2025-2026 (the
// years with real holiday data) from a fixed seed, so a failure is
// reproducible and the run takes well under a second.

const propertyRuns = 4000

// randomStart returns a second-precision instant in 2025-2026, Beijing
// time, or in the last months of 2026 so deadlines stay in covered years.
func randomStart(r *rand.Rand) time.Time {
	from := at(2025, 1, 1, 0, 0).Unix()
	to := at(2026, 11, 1, 0, 0).Unix()
	return time.Unix(from+r.Int64N(to-from), 0).In(shanghai)
}

// endsWorking reports whether t is working time or the end of a working
// period.
func endsWorking(c *calendar.Calendar, t time.Time) bool {
	return c.IsWorkingTime(t) || c.IsWorkingTime(t.Add(-time.Nanosecond))
}

func TestPropertyWorkHours(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"national", "guangxi", "nanning", "shortFriday"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := calendars(t)[name]
			r := rand.New(rand.NewPCG(1, uint64(len(name))))
			for range propertyRuns {
				start := randomStart(r)
				// Up to 20 eight-hour days, in whole minutes.
				m1 := r.IntN(20 * 8 * 60)
				m2 := m1 + r.IntN(8*60)
				d1, d2 := calendar.WorkHours(float64(m1)/60), calendar.WorkHours(float64(m2)/60)
				got1, err1 := c.Add(start, d1)
				got2, err2 := c.Add(start, d2)
				if err1 != nil || err2 != nil {
					t.Fatalf("Add(%s): %v, %v", start, err1, err2)
				}
				if b := c.Between(start, got1); b != time.Duration(m1)*time.Minute {
					t.Fatalf("Between(%s, Add(%s, %dm)=%s) = %s", start, start, m1, got1, b)
				}
				if got2.Before(got1) {
					t.Fatalf("not monotonic from %s: %dm → %s, %dm → %s", start, m1, got1, m2, got2)
				}
				if got1.Before(start) {
					t.Fatalf("Add(%s, %dm) = %s is before the start", start, m1, got1)
				}
				if !endsWorking(c, got1) {
					t.Fatalf("Add(%s, %dm) = %s is outside working time", start, m1, got1)
				}
			}
		})
	}
}

// TestPropertyOracle compares Add with a minute-by-minute walk that uses
// only IsWorkingTime.
func TestPropertyOracle(t *testing.T) {
	t.Parallel()
	c := calendars(t)["nanning"]
	r := rand.New(rand.NewPCG(2, 2))
	for range 300 {
		start := randomStart(r).Truncate(time.Minute)
		k := r.IntN(3 * 7 * 60)
		// Walk to the first working minute (k = 0) or to the end of the
		// k-th working minute.
		cur := start
		if k == 0 {
			for !c.IsWorkingTime(cur) {
				cur = cur.Add(time.Minute)
			}
		}
		for n := 0; n < k; cur = cur.Add(time.Minute) {
			if c.IsWorkingTime(cur) {
				n++
			}
		}
		got, err := c.Add(start, calendar.WorkHours(float64(k)/60))
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(cur) {
			t.Fatalf("Add(%s, %dm) = %s, walk says %s", start, k, got, cur)
		}
	}
}

func TestPropertyCalendarDays(t *testing.T) {
	t.Parallel()
	c := calendars(t)["days"] // every working day has the same hours
	r := rand.New(rand.NewPCG(3, 3))
	for range propertyRuns {
		start := randomStart(r)
		n := r.IntN(25)
		got, err := c.Add(start, calendar.WorkDays(float64(n)))
		if err != nil {
			t.Fatal(err)
		}
		next, _ := c.Next(start)
		if !c.IsWorkday(got) || !endsWorking(c, got) {
			t.Fatalf("Add(%s, %d days) = %s is not working time", start, n, got)
		}
		// Same clock time as the first working moment …
		if got.Hour() != next.Hour() || got.Minute() != next.Minute() || got.Second() != next.Second() {
			t.Fatalf("Add(%s, %d days) = %s, want the clock time of %s", start, n, got, next)
		}
		// … exactly n working days later.
		days := 0
		for d := calendar.DateOf(next).AddDays(1); !calendar.DateOf(got).Before(d); d = d.AddDays(1) {
			if c.Day(d).Workday {
				days++
			}
		}
		if days != n {
			t.Fatalf("Add(%s, %d days) = %s is %d working days later", start, n, got, days)
		}
		if more, _ := c.Add(start, calendar.WorkDays(float64(n+1))); !more.After(got) {
			t.Fatalf("not monotonic from %s: %d days → %s, %d → %s", start, n, got, n+1, more)
		}
	}
}

func TestPropertyNatural(t *testing.T) {
	t.Parallel()
	c := calendars(t)["national"]
	r := rand.New(rand.NewPCG(4, 4))
	for range propertyRuns {
		start := randomStart(r)
		m := r.IntN(7 * 24 * 60)
		got, err := c.Add(start, calendar.NaturalMinutes(float64(m)))
		if err != nil || !got.Equal(start.Add(time.Duration(m)*time.Minute)) {
			t.Fatalf("Add(%s, %d natural minutes) = %s, %v", start, m, got, err)
		}
	}
}

// TestPropertyClock drives clocks through random pauses and checks that
// paused time is never counted and that the deadline spends the limit.
func TestPropertyClock(t *testing.T) {
	t.Parallel()
	c := calendars(t)["nanning"]
	r := rand.New(rand.NewPCG(5, 5))
	for range propertyRuns / 4 {
		start := randomStart(r)
		limit := time.Duration(r.IntN(10*7*60)) * time.Minute
		k, err := c.NewClock(start, calendar.WorkHours(limit.Hours()))
		if err != nil {
			t.Fatal(err)
		}
		var pauses [][2]time.Time
		now := start
		for range r.IntN(5) {
			p := now.Add(time.Duration(r.Int64N(int64(72 * time.Hour))))
			q := p.Add(time.Duration(r.Int64N(int64(96 * time.Hour))))
			before := k.Elapsed(p)
			if err := k.Pause(p); err != nil {
				t.Fatal(err)
			}
			if mid := p.Add(q.Sub(p) / 2); k.Elapsed(mid) != before || k.Elapsed(q) != before {
				t.Fatalf("clock counted time while paused between %s and %s", p, q)
			}
			if err := k.Resume(q); err != nil {
				t.Fatal(err)
			}
			pauses = append(pauses, [2]time.Time{p, q})
			now = q
		}
		end := now.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour))))
		want := c.Between(start, end)
		for _, p := range pauses {
			want -= c.Between(p[0], p[1])
		}
		if got := k.Elapsed(end); got != want {
			t.Fatalf("Elapsed = %s, want %s (working time minus paused working time)", got, want)
		}
		dl, err := k.Deadline()
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Elapsed(dl); got != limit {
			t.Fatalf("Elapsed(Deadline) = %s, want the limit %s", got, limit)
		}
		if k.Remaining(dl) != 0 {
			t.Fatalf("Remaining(Deadline) = %s", k.Remaining(dl))
		}
	}
}

// TestPropertyDaylightSaving runs the round trip in a zone with daylight
// saving and windows that straddle the 02:00/03:00 jumps: a tenant outside
// China is unlikely, but the time zone is configurable.
func TestPropertyDaylightSaving(t *testing.T) {
	t.Parallel()
	c := mustNew(t, calendar.National(), tenantLayer(t, `{"time_zone": "Europe/Berlin",
		"work_week": ["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
		"hours": {"default": ["01:30-03:30", "20:00-24:00"]}}`))
	r := rand.New(rand.NewPCG(6, 6))
	for range propertyRuns {
		start := randomStart(r)
		d := time.Duration(r.IntN(40*60)) * time.Minute
		got, err := c.Add(start, calendar.WorkHours(d.Hours()))
		if err != nil {
			t.Fatal(err)
		}
		if b := c.Between(start, got); b != d {
			t.Fatalf("Between(%s, Add(%s, %s) = %s) = %s", start, start, d, got, b)
		}
		if !endsWorking(c, got) {
			t.Fatalf("Add(%s, %s) = %s is outside working time", start, d, got)
		}
	}
}
