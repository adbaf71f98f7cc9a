package calendar

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// TenantSpec is a tenant's calendar as written in configuration. It carries
// both json and yaml tags so that the tenant manifest can embed it as a
// `calendar:` block and decode it with its own YAML reader; DecodeTenant
// reads the JSON form. Example (YAML):
//
//	time_zone: Asia/Shanghai
//	work_day: {mode: calendar_days, hours: 7}
//	work_week: [mon, tue, wed, thu, fri]
//	hours:
//	  default: ["08:00-12:00", "14:30-17:30"]
//	  fri: ["08:00-12:00", "14:30-16:30"]
//	seasons:
//	  - {name: 夏季作息, from: "06-01", to: "09-30",
//	     hours: {default: ["08:00-12:00", "15:00-18:00"]}}
//	days:
//	  - {date: "2026-03-06", kind: off, name: 县庆}
//	  - {date: "2026-03-07", kind: workday, name: 创文迎检值班, hours: ["08:00-12:00"]}
type TenantSpec struct {
	TimeZone string       `json:"time_zone,omitempty" yaml:"time_zone,omitempty"`
	WorkDay  *WorkDaySpec `json:"work_day,omitempty" yaml:"work_day,omitempty"`
	// WorkWeek lists weekdays as mon … sun.
	WorkWeek []string `json:"work_week,omitempty" yaml:"work_week,omitempty"`
	// Hours maps "default" and optionally mon … sun to windows "HH:MM-HH:MM".
	Hours   map[string][]string `json:"hours,omitempty" yaml:"hours,omitempty"`
	Seasons []SeasonSpec        `json:"seasons,omitempty" yaml:"seasons,omitempty"`
	Days    []DaySpec           `json:"days,omitempty" yaml:"days,omitempty"`
}

// WorkDaySpec says what a working day is: mode "hours" or "calendar_days"
// (see WorkDayMode) and its length in hours.
type WorkDaySpec struct {
	Mode  string  `json:"mode,omitempty" yaml:"mode,omitempty"`
	Hours float64 `json:"hours,omitempty" yaml:"hours,omitempty"`
}

// SeasonSpec is a Season in configuration; From and To are MM-DD (every
// year) or YYYY-MM-DD (once).
type SeasonSpec struct {
	Name  string              `json:"name,omitempty" yaml:"name,omitempty"`
	From  string              `json:"from" yaml:"from"`
	To    string              `json:"to" yaml:"to"`
	Hours map[string][]string `json:"hours" yaml:"hours"`
}

// DaySpec is a DayRule in configuration.
type DaySpec struct {
	Date  string   `json:"date" yaml:"date"`
	Kind  string   `json:"kind" yaml:"kind"`
	Name  string   `json:"name,omitempty" yaml:"name,omitempty"`
	Hours []string `json:"hours,omitempty" yaml:"hours,omitempty"`
}

// DecodeTenant reads a TenantSpec as JSON (unknown fields are errors, since
// a misspelt key would otherwise silently keep the default hours) and
// converts it with TenantSpec.Layer.
func DecodeTenant(name string, r io.Reader) (Layer, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var spec TenantSpec
	if err := dec.Decode(&spec); err != nil {
		return Layer{}, fmt.Errorf("calendar: %s: %w", name, err)
	}
	if dec.More() {
		return Layer{}, fmt.Errorf("calendar: %s: trailing data after the JSON object", name)
	}
	return spec.Layer(name)
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// Layer converts the spec into a Layer named name, reporting every
// problem. The result is checked further (overlaps between seasons, …) by
// New.
func (s TenantSpec) Layer(name string) (Layer, error) {
	l := Layer{Name: name}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("calendar: %s: "+format, append([]any{name}, args...)...))
	}

	if s.TimeZone != "" {
		// "Local" would mean whatever the server is set to.
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil || s.TimeZone == "Local" {
			bad("time_zone %q: want an IANA name such as Asia/Shanghai", s.TimeZone)
		} else {
			l.Location = loc
		}
	}
	if w := s.WorkDay; w != nil {
		switch w.Mode {
		case "":
		case "hours":
			l.WorkDayMode = WorkDayAsHours
		case "calendar_days":
			l.WorkDayMode = WorkDayAsCalendarDays
		default:
			bad("work_day.mode %q: want hours or calendar_days", w.Mode)
		}
		if w.Hours != 0 {
			if math.IsNaN(w.Hours) || w.Hours < 1.0/60 || w.Hours > 24 {
				bad("work_day.hours %g: want between 1/60 and 24", w.Hours)
			} else {
				l.WorkDayHours = time.Duration(math.Round(w.Hours*3600)) * time.Second
			}
		}
	}
	if s.WorkWeek != nil {
		l.WorkWeek = []time.Weekday{}
		for _, n := range s.WorkWeek {
			wd, ok := weekdayNames[strings.ToLower(n)]
			if !ok {
				bad("work_week %q: want mon, tue, wed, thu, fri, sat or sun", n)
				continue
			}
			l.WorkWeek = append(l.WorkWeek, wd)
		}
	}
	if s.Hours != nil {
		sch, err := schedule(s.Hours)
		if err != nil {
			bad("hours: %v", err)
		} else {
			l.Hours = &sch
		}
	}
	for i, ss := range s.Seasons {
		label := ss.Name
		if label == "" {
			label = fmt.Sprintf("#%d", i+1)
		}
		from, err1 := seasonDate(ss.From)
		to, err2 := seasonDate(ss.To)
		sch, err3 := schedule(ss.Hours)
		if err := errors.Join(err1, err2, err3); err != nil {
			bad("season %s: %v", label, err)
			continue
		}
		l.Seasons = append(l.Seasons, Season{Name: ss.Name, From: from, To: to, Hours: sch})
	}
	for _, ds := range s.Days {
		d, err := ParseDate(ds.Date)
		if err != nil {
			bad("days: %v", err)
			continue
		}
		ws, err := windows(ds.Hours)
		if err != nil {
			bad("day %s: %v", d, err)
			continue
		}
		// The kind is passed through unchecked; New reports unknown kinds
		// with the same message for every layer.
		l.Days = append(l.Days, DayRule{Date: d, Kind: Kind(ds.Kind), Name: ds.Name, Hours: ws})
	}
	if len(errs) > 0 {
		return Layer{}, errors.Join(errs...)
	}
	return l, nil
}

func seasonDate(s string) (Date, error) {
	if len(s) == len("01-02") {
		return parseMonthDay(s)
	}
	return ParseDate(s)
}

func schedule(m map[string][]string) (Schedule, error) {
	var sch Schedule
	if _, ok := m["default"]; !ok {
		return sch, errors.New(`no "default" hours`)
	}
	var errs []error
	for k, v := range m {
		ws, err := windows(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
			continue
		}
		if k == "default" {
			sch.Workday = ws
			continue
		}
		wd, ok := weekdayNames[strings.ToLower(k)]
		if !ok {
			errs = append(errs, fmt.Errorf("key %q: want default or mon … sun", k))
			continue
		}
		if sch.Weekday == nil {
			sch.Weekday = map[time.Weekday][]Window{}
		}
		sch.Weekday[wd] = ws
	}
	// Map order is random; sort the messages so an operator sees the same
	// report twice.
	return sch, joinSorted(errs)
}

func windows(ss []string) ([]Window, error) {
	var out []Window
	for _, s := range ss {
		w, err := ParseWindow(s)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func joinSorted(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	slices.Sort(msgs)
	return errors.New(strings.Join(msgs, "; "))
}
