package calendar

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Unit is the unit of a time limit.
type Unit int

// Units of a time limit. Work units count only working time; natural units
// ignore the calendar, as emergency limits (紧急案件 10 分钟) do.
const (
	WorkHour      Unit = iota + 1 // 工作时
	WorkDay                       // 工作日; see WorkDayMode
	NaturalMinute                 // 自然分钟
	NaturalHour                   // 自然小时
)

var unitNames = [...]string{WorkHour: "work_hour", WorkDay: "work_day", NaturalMinute: "natural_minute", NaturalHour: "natural_hour"}

// String returns the unit's name in configuration files (work_hour, …).
func (u Unit) String() string {
	if u.valid() {
		return unitNames[u]
	}
	return fmt.Sprintf("Unit(%d)", int(u))
}

func (u Unit) valid() bool { return u >= WorkHour && u <= NaturalHour }

// Natural reports whether u ignores the calendar.
func (u Unit) Natural() bool { return u == NaturalMinute || u == NaturalHour }

// MarshalText implements encoding.TextMarshaler so limits can live in JSON
// and YAML configuration.
func (u Unit) MarshalText() ([]byte, error) {
	if !u.valid() {
		return nil, fmt.Errorf("calendar: unknown unit %d", int(u))
	}
	return []byte(unitNames[u]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (u *Unit) UnmarshalText(b []byte) error {
	for i, n := range unitNames {
		if n != "" && n == string(b) {
			*u = Unit(i)
			return nil
		}
	}
	return fmt.Errorf("calendar: unknown unit %q (want work_hour, work_day, natural_minute or natural_hour)", b)
}

// Duration is a time limit such as 4 工作时 or 0.5 工作日.
type Duration struct {
	Amount float64 `json:"amount" yaml:"amount"`
	Unit   Unit    `json:"unit" yaml:"unit"`
}

// WorkHours returns a limit of n 工作时.
func WorkHours(n float64) Duration { return Duration{n, WorkHour} }

// WorkDays returns a limit of n 工作日.
func WorkDays(n float64) Duration { return Duration{n, WorkDay} }

// NaturalMinutes returns a limit of n minutes that ignores the calendar.
func NaturalMinutes(n float64) Duration { return Duration{n, NaturalMinute} }

// NaturalHours returns a limit of n hours that ignores the calendar.
func NaturalHours(n float64) Duration { return Duration{n, NaturalHour} }

// String formats d as "4 work_hour".
func (d Duration) String() string {
	return fmt.Sprintf("%g %s", d.Amount, d.Unit)
}

// MaxSpan bounds every duration, measured in hours (a work day counts as
// the calendar's working-day hours). No city-management limit comes near
// it; the bound stops a typo from producing a deadline decades away and
// bounds the work Add does.
const MaxSpan = 100_000 * time.Hour

// ErrInvalidDuration is returned for a negative, non-finite, unknown-unit or
// too long duration.
var ErrInvalidDuration = errors.New("calendar: invalid duration")

// ErrOutOfRange is returned when a computation would need to look more than
// a century ahead, which only a calendar with almost no working time can
// cause.
var ErrOutOfRange = errors.New("calendar: deadline out of range")

// Validate checks d on its own (against MaxSpan with 24-hour days, the
// longest a working day can be); configuration loaders call it so that a bad
// limit is reported when it is loaded rather than when a case needs it.
func (d Duration) Validate() error {
	_, err := d.span(24 * time.Hour)
	return err
}

// span converts d to a time.Duration rounded to the second, counting a work
// day as dayHours.
func (d Duration) span(dayHours time.Duration) (time.Duration, error) {
	var unit time.Duration
	switch d.Unit {
	case WorkHour, NaturalHour:
		unit = time.Hour
	case NaturalMinute:
		unit = time.Minute
	case WorkDay:
		unit = dayHours
	default:
		return 0, fmt.Errorf("%w: unknown unit %d", ErrInvalidDuration, int(d.Unit))
	}
	a := d.Amount
	if math.IsNaN(a) || a < 0 || a*unit.Seconds() > MaxSpan.Seconds() {
		return 0, fmt.Errorf("%w: %s (want 0 to %s)", ErrInvalidDuration, d, MaxSpan)
	}
	return time.Duration(math.Round(a*unit.Seconds())) * time.Second, nil
}
