package calendar

import (
	"fmt"
	"strings"
	"time"
)

// Kind says whether a listed date is a day off or a working day.
type Kind string

// The two kinds of listed day. Every date a layer does not list follows the
// weekly pattern (Layer.WorkWeek).
const (
	// Off is a day off on a day that would otherwise be worked: a public
	// holiday, a 调休 rest day, or a tenant's local day off.
	Off Kind = "off"
	// Workday is a working day on a day that would otherwise be off: a 调休
	// make-up working day (调休上班) or a tenant's duty day (值班).
	Workday Kind = "workday"
)

func (k Kind) valid() bool { return k == Off || k == Workday }

// Window is one working period of a day, as offsets from midnight. It is
// half-open: [Start, End). End may be 24h so that a night shift can run to
// midnight and continue at 00:00 on the next day.
type Window struct {
	Start, End time.Duration
}

// ParseWindow parses "08:00-12:00" (24-hour clock, minutes precision,
// "24:00" allowed as an end).
func ParseWindow(s string) (Window, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("hours %q: want HH:MM-HH:MM", s)
	}
	start, err1 := parseClock(from)
	end, err2 := parseClock(to)
	if err1 != nil || err2 != nil {
		return Window{}, fmt.Errorf("hours %q: want HH:MM-HH:MM", s)
	}
	w := Window{start, end}
	if err := w.validate(); err != nil {
		return Window{}, err
	}
	return w, nil
}

func parseClock(s string) (time.Duration, error) {
	if len(s) != len("15:04") || s[2] != ':' {
		return 0, fmt.Errorf("clock %q: want HH:MM", s)
	}
	for _, c := range s[:2] + s[3:] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("clock %q: want HH:MM", s)
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("clock %q: out of range", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// String formats w as 08:00-12:00 (with seconds when they are not zero).
func (w Window) String() string { return clock(w.Start) + "-" + clock(w.End) }

func clock(d time.Duration) string {
	s := int(d / time.Second)
	if s%60 != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/3600, s/60%60)
}

func (w Window) validate() error {
	switch {
	case w.Start < 0 || w.End > 24*time.Hour:
		return fmt.Errorf("hours %s: outside 00:00-24:00", w)
	case w.Start%time.Second != 0 || w.End%time.Second != 0:
		return fmt.Errorf("hours %s: finer than a second", w)
	case w.End <= w.Start:
		// A window that crosses midnight is two windows on two days; saying
		// so explicitly keeps "which date does this hour belong to" simple.
		return fmt.Errorf("hours %s: end is not after start (split a night shift at 24:00)", w)
	}
	return nil
}

// validateWindows checks one day's windows and returns them sorted.
// Touching windows (12:00-12:00) are fine; overlapping ones are a typo that
// would otherwise count the shared time twice.
func validateWindows(ws []Window) ([]Window, error) {
	out := append([]Window(nil), ws...)
	for _, w := range out {
		if err := w.validate(); err != nil {
			return nil, err
		}
	}
	// Insertion sort: a day has a handful of windows.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Start < out[j-1].Start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	for i := 1; i < len(out); i++ {
		if out[i].Start < out[i-1].End {
			return nil, fmt.Errorf("hours %s and %s overlap", out[i-1], out[i])
		}
	}
	return out, nil
}

// Schedule is the working hours of a working day.
type Schedule struct {
	// Workday holds the hours of every working day, including 调休 make-up
	// days that fall on a weekend, unless Weekday says otherwise.
	Workday []Window
	// Weekday holds hours for particular weekdays that differ from Workday,
	// e.g. a Friday that ends at 16:30. It does not make a weekday a working
	// day; Layer.WorkWeek does.
	Weekday map[time.Weekday][]Window
}

// resolved returns the hours of each weekday, validated.
func (s Schedule) resolved() ([7][]Window, error) {
	var out [7][]Window
	def, err := validateWindows(s.Workday)
	if err != nil {
		return out, err
	}
	if len(def) == 0 {
		return out, fmt.Errorf("schedule has no working-day hours")
	}
	for wd := range out {
		out[wd] = def
	}
	for wd, ws := range s.Weekday {
		if wd < time.Sunday || wd > time.Saturday {
			return out, fmt.Errorf("schedule: weekday %d does not exist", wd)
		}
		v, err := validateWindows(ws)
		if err != nil {
			return out, fmt.Errorf("%s: %w", wd, err)
		}
		if len(v) == 0 {
			return out, fmt.Errorf("%s: no hours (leave the day out of the work week instead)", wd)
		}
		out[wd] = v
	}
	return out, nil
}

// Season is a schedule that applies between two dates, inclusive: summer
// hours, winter hours. From and To are either both full dates (one period)
// or both recurring (Year 0, every year; To before From wraps over the new
// year, e.g. 11-01 to 02-28).
type Season struct {
	Name     string
	From, To Date
	Hours    Schedule
}

func (s Season) recurring() bool { return s.From.Year == 0 }

func (s Season) contains(d Date) bool {
	if !s.recurring() {
		return !d.Before(s.From) && !s.To.Before(d)
	}
	md := Date{0, d.Month, d.Day}
	if !s.To.Before(s.From) {
		return !md.Before(s.From) && !s.To.Before(md)
	}
	return !md.Before(s.From) || !s.To.Before(md)
}

// DayRule lists one date of a layer.
type DayRule struct {
	Date Date
	Kind Kind
	// Name is what the notice calls the day (春节, 国庆节调休上班, 创文迎检值班),
	// shown to operators next to a deadline that skipped or used it.
	Name string
	// Hours, for a Workday, replaces the schedule's hours on that date (a
	// half-day duty). Empty means the usual hours.
	Hours []Window
}

// WorkDayMode says what "N 工作日" means.
type WorkDayMode int

// The two readings of a working day. The zero value inherits from an
// earlier layer, and WorkDayAsHours applies when no layer chooses.
const (
	workDayInherit WorkDayMode = iota
	// WorkDayAsHours counts a working day as a fixed number of working
	// hours (Layer.WorkDayHours, default 8). It composes with work hours
	// (1.5 工作日 = 12 工作时), survives pauses exactly and makes
	// Between(t, Add(t, d)) == d hold for every unit, which is why it is
	// the default.
	WorkDayAsHours
	// WorkDayAsCalendarDays moves to the same position on the Nth following
	// working day: from Monday 10:00, 1 工作日 is Tuesday 10:00 whatever the
	// day's length. It is how most people read "1 工作日" when the tenant's
	// day is not 8 hours long (08:00-12:00 and 14:30-17:30 is 7 hours). When
	// the two days have different hours, "same position" is the same amount
	// of working time into the day, capped at the day's end. Fractions are
	// counted as hours: 0.5 工作日 is half of Layer.WorkDayHours.
	WorkDayAsCalendarDays
)

// String names the mode as the tenant file spells it.
func (m WorkDayMode) String() string {
	switch m {
	case WorkDayAsHours:
		return "hours"
	case WorkDayAsCalendarDays:
		return "calendar_days"
	}
	return "inherit"
}

// Layer is one level of the calendar. Every field is optional; zero values
// inherit from the layers before it in New, and later layers win.
type Layer struct {
	// Name identifies the layer in errors and in DayInfo ("national",
	// "province 450000", "tenant 450126").
	Name string
	// Years lists the years for which the layer's day list is complete
	// (the national notice has been published and entered). Nil means the
	// layer is not tied to years, as a tenant's local days are.
	Years []int
	// Days lists dates that differ from the weekly pattern. A date may be
	// listed once per layer; a later layer's rule for the same date wins.
	Days []DayRule
	// WorkWeek lists the regular working weekdays (nil inherits; the
	// default is Monday to Friday).
	WorkWeek []time.Weekday
	// Hours is the regular schedule (nil inherits; see DefaultSchedule).
	Hours *Schedule
	// Seasons override Hours between dates. Within one layer, full-date
	// seasons beat recurring ones, and seasons of the same form must not
	// overlap.
	Seasons []Season
	// Location is the time zone of the working hours (nil inherits;
	// default Asia/Shanghai).
	Location *time.Location
	// WorkDayMode and WorkDayHours say what a working day is (zero
	// inherits; default WorkDayAsHours and 8 hours).
	WorkDayMode  WorkDayMode
	WorkDayHours time.Duration
}

// DefaultSchedule is used when no layer sets Hours: 09:00-12:00 and
// 13:00-18:00, the 8 hours a day of the State Council's working-time rules.
// The clock times are a placeholder; every tenant should set its own.
func DefaultSchedule() Schedule {
	return Schedule{Workday: []Window{
		{9 * time.Hour, 12 * time.Hour},
		{13 * time.Hour, 18 * time.Hour},
	}}
}

// DefaultWorkDayHours is the length of a working day under WorkDayAsHours
// when no layer sets it.
const DefaultWorkDayHours = 8 * time.Hour

// DefaultTimeZone is the calendar's zone when no layer sets one: all of
// China keeps Beijing time, which has had no daylight saving since 1991.
const DefaultTimeZone = "Asia/Shanghai"
