package calendar

import (
	"fmt"
	"time"
)

// Date is a civil date without a time zone. Holiday notices name dates,
// not instants, so the layers are keyed by Date and the calendar's location
// decides which instants belong to it.
//
// A Date with Year 0 is a recurring month and day ("every 1 July"); only
// Season bounds accept it.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's own location. Convert t with In first
// to get its date in another zone.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses a date in ISO 8601 form, 2006-01-02. It is strict (no
// other layouts, no surrounding space) because dates come from reviewed data
// files where one spelling keeps them greppable.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	// Year 0 is reserved for recurring dates.
	if err != nil || t.Year() < 1 {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// parseMonthDay parses the recurring form MM-DD into a Date with Year 0.
// 02-29 is accepted: it simply matches nothing in common years.
func parseMonthDay(s string) (Date, error) {
	// 2000 is a leap year, so 02-29 parses.
	t, err := time.Parse(time.DateOnly, "2000-"+s)
	if err != nil || len(s) != len("01-02") {
		return Date{}, fmt.Errorf("date %q: want MM-DD or YYYY-MM-DD", s)
	}
	return Date{0, t.Month(), t.Day()}, nil
}

// String formats d as 2006-01-02, or 01-02 for a recurring date.
func (d Date) String() string {
	if d.Year == 0 {
		return fmt.Sprintf("%02d-%02d", int(d.Month), d.Day)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// valid reports whether d names a real day (it survives normalisation).
func (d Date) valid() bool {
	y := d.Year
	if y == 0 {
		y = 2000
	}
	t := time.Date(y, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return t.Year() == y && t.Month() == d.Month && t.Day() == d.Day
}

// AddDays returns the date n days after d (before, for negative n).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()
}

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.compare(e) < 0 }

func (d Date) compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
