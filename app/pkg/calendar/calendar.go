package calendar

import (
	"errors"
	"fmt"
	"slices"
	"time"

	// The default zone is loaded by name; embedding the IANA database keeps
	// New working in containers without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Calendar answers working-time questions for one tenant. It is immutable
// after New and safe for concurrent use.
type Calendar struct {
	loc      *time.Location
	days     map[Date]dayRule
	workWeek [7]bool
	// sources is searched in order for the hours of a working day: the
	// nearest layer's seasons first, its regular hours last.
	sources  []hourSource
	mode     WorkDayMode
	dayHours time.Duration
	years    [][]int // Layer.Years of each layer that has them
}

type dayRule struct {
	kind  Kind
	name  string
	layer string
	hours []Window
}

type hourSource struct {
	season *Season // nil: applies to every date
	week   [7][]Window
}

// New builds a calendar from layers, later layers overriding earlier ones:
// New(National(), guangxi, tenant). Every problem in every layer is
// reported, joined, so an operator fixes a tenant file in one pass.
//
// New refuses a calendar without a regular working weekday, because Add
// could then never reach a deadline.
func New(layers ...Layer) (*Calendar, error) {
	c := &Calendar{
		days:     map[Date]dayRule{},
		mode:     WorkDayAsHours,
		dayHours: DefaultWorkDayHours,
	}
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday} {
		c.workWeek[wd] = true
	}
	def, _ := DefaultSchedule().resolved()
	c.sources = []hourSource{{week: def}}

	var errs []error
	for i, l := range layers {
		name := l.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
		}
		for _, err := range c.apply(name, l) {
			errs = append(errs, fmt.Errorf("calendar: layer %s: %w", name, err))
		}
	}
	if !slices.Contains(c.workWeek[:], true) {
		errs = append(errs, errors.New("calendar: no regular working weekday, so no deadline could ever be reached"))
	}
	if c.loc == nil {
		loc, err := time.LoadLocation(DefaultTimeZone)
		if err != nil {
			errs = append(errs, fmt.Errorf("calendar: %w", err))
		}
		c.loc = loc
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// apply merges one layer into c and returns its problems.
func (c *Calendar) apply(name string, l Layer) []error {
	var errs []error
	seen := map[Date]bool{}
	for _, r := range l.Days {
		if r.Date.Year == 0 || !r.Date.valid() {
			errs = append(errs, fmt.Errorf("day %s: not a valid date", r.Date))
			continue
		}
		if seen[r.Date] {
			errs = append(errs, fmt.Errorf("day %s: listed twice", r.Date))
			continue
		}
		seen[r.Date] = true
		if !r.Kind.valid() {
			errs = append(errs, fmt.Errorf("day %s: unknown kind %q (want off or workday)", r.Date, r.Kind))
			continue
		}
		var hours []Window
		if len(r.Hours) > 0 {
			if r.Kind == Off {
				errs = append(errs, fmt.Errorf("day %s: a day off has no hours", r.Date))
				continue
			}
			var err error
			if hours, err = validateWindows(r.Hours); err != nil {
				errs = append(errs, fmt.Errorf("day %s: %w", r.Date, err))
				continue
			}
		}
		c.days[r.Date] = dayRule{kind: r.Kind, name: r.Name, layer: name, hours: hours}
	}

	if l.WorkWeek != nil {
		var ww [7]bool
		for _, wd := range l.WorkWeek {
			if wd < time.Sunday || wd > time.Saturday {
				errs = append(errs, fmt.Errorf("work week: weekday %d does not exist", wd))
				continue
			}
			ww[wd] = true
		}
		c.workWeek = ww
	}

	if l.Hours != nil {
		week, err := l.Hours.resolved()
		if err != nil {
			errs = append(errs, fmt.Errorf("hours: %w", err))
		} else {
			// The layer's regular hours cover every date, so nothing from
			// the layers below can show through any more.
			c.sources = []hourSource{{week: week}}
		}
	}

	var fixed, yearly []hourSource
	for i := range l.Seasons {
		s := l.Seasons[i]
		label := s.Name
		if label == "" {
			label = fmt.Sprintf("#%d", i+1)
		}
		if err := s.validate(); err != nil {
			errs = append(errs, fmt.Errorf("season %s: %w", label, err))
			continue
		}
		week, err := s.Hours.resolved()
		if err != nil {
			errs = append(errs, fmt.Errorf("season %s: %w", label, err))
			continue
		}
		s.Hours = Schedule{} // resolved into week; do not keep the caller's map
		src := hourSource{season: &s, week: week}
		group := &fixed
		if s.recurring() {
			group = &yearly
		}
		for _, o := range *group {
			if s.overlaps(*o.season) {
				errs = append(errs, fmt.Errorf("season %s (%s to %s) overlaps season %s (%s to %s)",
					label, s.From, s.To, o.season.Name, o.season.From, o.season.To))
			}
		}
		*group = append(*group, src)
	}
	c.sources = slices.Concat(fixed, yearly, c.sources)

	if l.Location != nil {
		c.loc = l.Location
	}
	switch l.WorkDayMode {
	case workDayInherit:
	case WorkDayAsHours, WorkDayAsCalendarDays:
		c.mode = l.WorkDayMode
	default:
		errs = append(errs, fmt.Errorf("work day mode %d: unknown", l.WorkDayMode))
	}
	switch {
	case l.WorkDayHours == 0:
	case l.WorkDayHours < time.Minute || l.WorkDayHours > 24*time.Hour:
		errs = append(errs, fmt.Errorf("work day hours %s: want between 1m and 24h", l.WorkDayHours))
	default:
		c.dayHours = l.WorkDayHours
	}
	if l.Years != nil {
		c.years = append(c.years, slices.Clone(l.Years))
	}
	return errs
}

func (s Season) validate() error {
	if !s.From.valid() || !s.To.valid() {
		return fmt.Errorf("bounds %s to %s: not valid dates", s.From, s.To)
	}
	if s.recurring() != (s.To.Year == 0) {
		return fmt.Errorf("bounds %s to %s: both must be MM-DD or both YYYY-MM-DD", s.From, s.To)
	}
	if !s.recurring() && s.To.Before(s.From) {
		return fmt.Errorf("bounds %s to %s: end before start", s.From, s.To)
	}
	return nil
}

// overlaps reports whether two seasons of the same form share a date.
func (s Season) overlaps(o Season) bool {
	if !s.recurring() {
		return !s.To.Before(o.From) && !o.To.Before(s.From)
	}
	// Walk a leap year so that 02-29 bounds are compared too.
	for d := (Date{2000, time.January, 1}); d.Year == 2000; d = d.AddDays(1) {
		if s.contains(d) && o.contains(d) {
			return true
		}
	}
	return false
}

// Location returns the calendar's time zone; every result is in it.
func (c *Calendar) Location() *time.Location { return c.loc }

// WorkDay returns what a working day means in this calendar.
func (c *Calendar) WorkDay() (WorkDayMode, time.Duration) { return c.mode, c.dayHours }

// Covers reports whether every layer that is tied to years (the national
// and province holiday lists) has its data for the year of t. A deadline
// in a year that is not covered treats that year's holidays as ordinary
// days; callers should warn an operator to load the notice.
func (c *Calendar) Covers(t time.Time) bool {
	y := t.In(c.loc).Year()
	for _, ys := range c.years {
		if !slices.Contains(ys, y) {
			return false
		}
	}
	return true
}

// DayInfo describes one date of the calendar.
type DayInfo struct {
	Date    Date
	Workday bool
	// Name and Layer come from the rule that decided the day (春节 from
	// "national"); both are empty for an ordinary weekday or weekend.
	Name, Layer string
	// Hours is the day's working hours; nil on a day off.
	Hours []Window
}

// Day describes date d.
func (c *Calendar) Day(d Date) DayInfo {
	r := c.days[d]
	return DayInfo{Date: d, Workday: c.windows(d) != nil, Name: r.name, Layer: r.layer,
		Hours: slices.Clone(c.windows(d))}
}

// IsWorkday reports whether the date of t, in the calendar's zone, is a
// working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	return c.windows(DateOf(t.In(c.loc))) != nil
}

// IsWorkingTime reports whether t falls inside a working period.
func (c *Calendar) IsWorkingTime(t time.Time) bool {
	t = t.In(c.loc)
	var buf [4]span
	for _, s := range c.spans(DateOf(t), buf[:0]) {
		if !t.Before(s.start) && t.Before(s.end) {
			return true
		}
	}
	return false
}

// windows returns the working hours of d, or nil on a day off.
func (c *Calendar) windows(d Date) []Window {
	wd := d.Weekday()
	if r, ok := c.days[d]; ok {
		if r.kind == Off {
			return nil
		}
		if r.hours != nil {
			return r.hours
		}
	} else if !c.workWeek[wd] {
		return nil
	}
	for _, s := range c.sources {
		if s.season == nil || s.season.contains(d) {
			return s.week[wd]
		}
	}
	return nil // unreachable: the last source covers every date
}

// span is one working period as instants, [start, end).
type span struct{ start, end time.Time }

// spans appends the working periods of d to buf.
func (c *Calendar) spans(d Date, buf []span) []span {
	for _, w := range c.windows(d) {
		s, e := c.at(d, w.Start), c.at(d, w.End)
		// A daylight-saving jump can swallow a window; an empty span would
		// only confuse the callers.
		if e.After(s) {
			buf = append(buf, span{s, e})
		}
	}
	return buf
}

// at returns the instant at offset off on date d. It goes through the wall
// clock rather than adding to midnight so that a zone with daylight saving
// still opens at 08:00 local time.
func (c *Calendar) at(d Date, off time.Duration) time.Time {
	s := int(off / time.Second)
	return time.Date(d.Year, d.Month, d.Day, s/3600, s/60%60, s%60, 0, c.loc)
}
