package calendar_test

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/calendar"
)

// FuzzAdd builds a calendar from the fuzzer's bytes (working weekdays, one
// or two windows, a run of days off) and checks that Add never panics,
// always returns, and keeps its promises when it succeeds.
func FuzzAdd(f *testing.F) {
	f.Add(int64(1767337200), 4.0, uint8(1), uint8(0b0111110), uint16(480), uint16(720), uint16(870), uint16(1050), uint16(0))
	f.Add(int64(1767337200), 5.0, uint8(2), uint8(0b0111110), uint16(480), uint16(720), uint16(870), uint16(1050), uint16(30))
	f.Add(int64(0), 1e9, uint8(1), uint8(1), uint16(0), uint16(1), uint16(0), uint16(0), uint16(400))
	f.Add(int64(-62135596800), 0.5, uint8(3), uint8(0), uint16(0), uint16(1440), uint16(0), uint16(0), uint16(0))
	f.Add(int64(253402300799), 99999.0, uint8(4), uint8(0x7f), uint16(0), uint16(1440), uint16(0), uint16(0), uint16(0))
	f.Add(int64(1767337200), math.NaN(), uint8(1), uint8(0b0111110), uint16(480), uint16(720), uint16(0), uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, startUnix int64, amount float64, unit, week uint8, s1, e1, s2, e2, offDays uint16) {
		var ww []time.Weekday
		for wd := range 7 {
			if week&(1<<wd) != 0 {
				ww = append(ww, time.Weekday(wd))
			}
		}
		m := func(v uint16) time.Duration { return time.Duration(v%1441) * time.Minute }
		sch := calendar.Schedule{Workday: []calendar.Window{{Start: m(s1), End: m(e1)}}}
		if e2 != 0 {
			sch.Workday = append(sch.Workday, calendar.Window{Start: m(s2), End: m(e2)})
		}
		start := time.Unix(startUnix%(400*366*86400), 0) // keep within years ±400 of 1970
		var days []calendar.DayRule
		for i := range int(offDays % 1000) {
			days = append(days, calendar.DayRule{Date: calendar.DateOf(start.In(shanghai)).AddDays(i), Kind: calendar.Off})
		}
		c, err := calendar.New(calendar.National(), calendar.Layer{WorkWeek: ww, Hours: &sch, Days: days,
			WorkDayMode: calendar.WorkDayMode(1 + unit%2)})
		if err != nil {
			return // refused calendars (no working weekday, bad windows) are the point
		}
		d := calendar.Duration{Amount: amount, Unit: calendar.Unit(unit % 6)}
		got, err := c.Add(start, d)
		if err != nil {
			if !errors.Is(err, calendar.ErrInvalidDuration) && !errors.Is(err, calendar.ErrOutOfRange) {
				t.Fatalf("Add error %v is neither invalid duration nor out of range", err)
			}
			return
		}
		if got.Before(start) {
			t.Fatalf("Add(%s, %s) = %s is before the start", start, d, got)
		}
		if d.Unit == calendar.WorkHour && got.Sub(start) < 400*24*time.Hour {
			want := time.Duration(math.Round(amount*3600)) * time.Second
			if b := c.Between(start, got); b != want {
				t.Fatalf("Between(start, Add(start, %s)) = %s, want %s", d, b, want)
			}
		}
	})
}

// FuzzDecodeTenant feeds tenant files (outside input) to the decoder and
// to New: errors are fine, panics are not.
func FuzzDecodeTenant(f *testing.F) {
	f.Add([]byte(nanningJSON))
	f.Add([]byte(`{"hours": {"default": ["08:00-12:00", "11:00-13:00"]}}`))
	f.Add([]byte(`{"seasons": [{"from": "12-01", "to": "01-31", "hours": {"default": ["00:00-24:00"]}}], "work_week": []}`))
	f.Add([]byte(`{"days": [{"date": "2026-02-29", "kind": "workday", "hours": ["24:00-24:00"]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := calendar.DecodeTenant("fuzz", bytes.NewReader(b))
		if err != nil {
			return
		}
		if c, err := calendar.New(calendar.National(), l); err == nil {
			_, _ = c.Add(time.Date(2026, 1, 2, 16, 0, 0, 0, shanghai), calendar.WorkDays(3))
		}
	})
}

// FuzzParseDaysCSV feeds day lists (an operator's newly entered notice).
func FuzzParseDaysCSV(f *testing.F) {
	f.Add("date,kind,name\n2027-01-01,off,元旦\n")
	f.Add("date,kind,name\n\"2027-01-01,off,x\n")
	f.Add("# c\ndate,kind,name\n2027-01-01,workday,a\n2027-01-01,off,b\n")
	f.Add("date,kind,name\n0000-01-01,off,00") // year 0 once slipped through
	f.Fuzz(func(t *testing.T, s string) {
		l, err := calendar.ParseDaysCSV("fuzz", strings.NewReader(s))
		if err != nil {
			return
		}
		if _, err := calendar.New(l); err != nil {
			t.Fatalf("New rejected a layer ParseDaysCSV accepted: %v", err)
		}
	})
}
