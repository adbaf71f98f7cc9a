package calendar_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/calendar"
)

// calendars builds the calendars the tables refer to by name.
func calendars(t testing.TB) map[string]*calendar.Calendar {
	t.Helper()
	return map[string]*calendar.Calendar{
		// national: the national layer and the 7-hour day 08:00-12:00,
		// 14:30-17:30, work day = 8 working hours (the default).
		"national": mustNew(t, calendar.National(), tenantLayer(t, plainHours(""))),
		// days: the same with a work day read as "same time on the next
		// working day".
		"days": mustNew(t, calendar.National(), tenantLayer(t, plainHours(`, "work_day": {"mode": "calendar_days", "hours": 7}`))),
		// guangxi: national + 三月三 + the 7-hour day.
		"guangxi":     mustNew(t, calendar.National(), guangxi(t), tenantLayer(t, plainHours(""))),
		"guangxiDays": mustNew(t, calendar.National(), guangxi(t), tenantLayer(t, plainHours(`, "work_day": {"mode": "calendar_days"}`))),
		// nanning: national + summer hours 07-01..09-30 and local days.
		"nanning":     mustNew(t, calendar.National(), guangxi(t), tenantLayer(t, nanningJSON)),
		"nanningDays": mustNew(t, calendar.National(), guangxi(t), tenantLayer(t, nanningJSON), calendar.Layer{WorkDayMode: calendar.WorkDayAsCalendarDays}),
		// shortFriday: Friday afternoons end at 16:30.
		"shortFriday": mustNew(t, calendar.National(), tenantLayer(t, `{"hours": {
			"default": ["08:00-12:00", "14:30-17:30"], "fri": ["08:00-12:00", "14:30-16:30"]}}`)),
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	cals := calendars(t)
	tests := []struct {
		name  string
		cal   string
		start time.Time
		d     calendar.Duration
		want  time.Time
	}{
		// 元旦 2026: 1/1-1/3 off, Sunday 1/4 is a make-up working day.
		{"holiday start moves to make-up Sunday", "national", at(2026, 1, 2, 16, 0), calendar.WorkHours(4), at(2026, 1, 4, 12, 0)},
		{"across 元旦 2026", "national", at(2025, 12, 31, 16, 0), calendar.WorkHours(4), at(2026, 1, 4, 10, 30)},
		{"start at end of morning", "national", at(2026, 1, 4, 12, 0), calendar.WorkHours(4), at(2026, 1, 5, 9, 0)},
		{"deadline at end of period", "national", at(2026, 1, 4, 14, 30), calendar.WorkHours(3), at(2026, 1, 4, 17, 30)},
		{"zero moves to next working moment", "national", at(2025, 3, 1, 10, 0), calendar.WorkHours(0), at(2025, 3, 3, 8, 0)},
		{"zero inside working time", "national", at(2025, 3, 3, 10, 17), calendar.WorkHours(0), at(2025, 3, 3, 10, 17)},
		{"over lunch", "national", at(2025, 3, 3, 11, 45), calendar.WorkHours(0.5), at(2025, 3, 3, 14, 45)},
		// 劳动节 2025: 5/1-5/5 off, Sunday 4/27 worked.
		{"劳动节 2025", "national", at(2025, 4, 30, 16, 0), calendar.WorkHours(4), at(2025, 5, 6, 10, 30)},
		{"make-up Sunday 4/27", "national", at(2025, 4, 26, 9, 0), calendar.WorkHours(4), at(2025, 4, 27, 12, 0)},
		// 中秋 2026: 9/25-9/27 (Fri-Sun).
		{"中秋 2026", "national", at(2026, 9, 24, 17, 0), calendar.WorkHours(1), at(2026, 9, 28, 8, 30)},
		// Work days as 8 working hours on a 7-hour day.
		{"1 work day = 8h before 春节 2026", "national", at(2026, 2, 13, 10, 0), calendar.WorkDays(1), at(2026, 2, 14, 11, 0)},
		{"2 work days = 16h across 春节 2026", "national", at(2026, 2, 13, 10, 0), calendar.WorkDays(2), at(2026, 2, 24, 12, 0)},

		// Work days as the same time on the Nth working day; 春节 2026 is
		// 2/15-2/23 with make-up Saturdays 2/14 and 2/28.
		{"春节 2026 +1 day: make-up Saturday", "days", at(2026, 2, 13, 10, 0), calendar.WorkDays(1), at(2026, 2, 14, 10, 0)},
		{"春节 2026 +2 days", "days", at(2026, 2, 13, 10, 0), calendar.WorkDays(2), at(2026, 2, 24, 10, 0)},
		{"春节 2026 +5 days", "days", at(2026, 2, 13, 10, 0), calendar.WorkDays(5), at(2026, 2, 27, 10, 0)},
		{"春节 2026 +6 days: make-up 2/28", "days", at(2026, 2, 13, 10, 0), calendar.WorkDays(6), at(2026, 2, 28, 10, 0)},
		{"春节 2026 +7 days", "days", at(2026, 2, 13, 10, 0), calendar.WorkDays(7), at(2026, 3, 2, 10, 0)},
		{"start on a holiday counts from the next morning", "days", at(2026, 1, 2, 16, 0), calendar.WorkDays(1), at(2026, 1, 5, 8, 0)},
		{"劳动节 2025 make-up Sunday", "days", at(2025, 4, 25, 9, 0), calendar.WorkDays(1), at(2025, 4, 27, 9, 0)},
		{"劳动节 2025", "days", at(2025, 4, 30, 15, 0), calendar.WorkDays(1), at(2025, 5, 6, 15, 0)},
		{"国庆 2026 make-up 9/20", "days", at(2026, 9, 18, 15, 0), calendar.WorkDays(1), at(2026, 9, 20, 15, 0)},
		{"国庆 2026 make-up 10/10", "days", at(2026, 9, 30, 9, 0), calendar.WorkDays(3), at(2026, 10, 10, 9, 0)},
		{"afternoon start stays in the afternoon", "days", at(2025, 3, 3, 14, 30), calendar.WorkDays(1), at(2025, 3, 4, 14, 30)},
		{"lunch start begins at 14:30", "days", at(2025, 3, 3, 12, 0), calendar.WorkDays(1), at(2025, 3, 4, 14, 30)},
		{"evening start begins next morning", "days", at(2025, 3, 3, 17, 30), calendar.WorkDays(1), at(2025, 3, 5, 8, 0)},
		{"half a day is half of work_day.hours", "days", at(2025, 3, 3, 8, 0), calendar.WorkDays(0.5), at(2025, 3, 3, 11, 30)},
		{"one and a half days", "days", at(2025, 3, 3, 8, 0), calendar.WorkDays(1.5), at(2025, 3, 4, 11, 30)},
		{"0 days inside working time is the start", "days", at(2025, 3, 3, 15, 0), calendar.WorkDays(0), at(2025, 3, 3, 15, 0)},

		// Guangxi 三月三 2025: 3/31-4/1 off, only in the Guangxi layer.
		{"三月三 ignored nationally", "national", at(2025, 3, 28, 17, 0), calendar.WorkHours(4), at(2025, 3, 31, 11, 30)},
		{"三月三 in Guangxi", "guangxi", at(2025, 3, 28, 17, 0), calendar.WorkHours(4), at(2025, 4, 2, 11, 30)},
		{"三月三 days nationally", "days", at(2025, 3, 28, 10, 0), calendar.WorkDays(1), at(2025, 3, 31, 10, 0)},
		{"三月三 days in Guangxi", "guangxiDays", at(2025, 3, 28, 10, 0), calendar.WorkDays(1), at(2025, 4, 2, 10, 0)},
		{"三月三 then 清明 in Guangxi", "guangxiDays", at(2025, 3, 28, 10, 0), calendar.WorkDays(3), at(2025, 4, 7, 10, 0)},
		{"三月三 2026 unknown: ordinary Monday", "guangxi", at(2026, 4, 17, 17, 0), calendar.WorkHours(1), at(2026, 4, 20, 8, 30)},

		// Tenant hours, seasons and local days.
		{"winter afternoon", "nanning", at(2025, 6, 30, 12, 0), calendar.WorkHours(2), at(2025, 6, 30, 16, 30)},
		{"summer afternoon", "nanning", at(2025, 7, 1, 12, 0), calendar.WorkHours(2), at(2025, 7, 1, 17, 0)},
		{"summer into 国庆 2025 into winter", "nanning", at(2025, 9, 30, 17, 0), calendar.WorkHours(2), at(2025, 10, 9, 9, 0)},
		{"same position across a season change", "nanningDays", at(2025, 6, 30, 15, 0), calendar.WorkDays(1), at(2025, 7, 1, 15, 30)},
		{"local day off and half-day duty", "nanning", at(2025, 3, 6, 16, 30), calendar.WorkHours(4), at(2025, 3, 8, 11, 0)},
		{"duty day beyond its morning", "nanning", at(2025, 3, 6, 16, 30), calendar.WorkHours(6), at(2025, 3, 10, 9, 0)},
		{"short Friday", "shortFriday", at(2025, 3, 14, 15, 30), calendar.WorkHours(2), at(2025, 3, 17, 9, 0)},

		// Natural units ignore the calendar (emergencies).
		{"natural hours over 春节", "national", at(2026, 2, 16, 23, 30), calendar.NaturalHours(2), at(2026, 2, 17, 1, 30)},
		{"natural minutes on 国庆", "national", at(2025, 10, 1, 3, 0), calendar.NaturalMinutes(10), at(2025, 10, 1, 3, 10)},
		{"fractional natural hours", "days", at(2025, 3, 1, 23, 0), calendar.NaturalHours(1.5), at(2025, 3, 2, 0, 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := cals[tt.cal]
			got, err := c.Add(tt.start, tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("Add(%s, %s) = %s, want %s", tt.start.Format(time.DateTime), tt.d,
					got.Format("2006-01-02 15:04 Mon"), tt.want.Format("2006-01-02 15:04 Mon"))
			}
			if got.Location() != c.Location() {
				t.Errorf("result in %s, want %s", got.Location(), c.Location())
			}
		})
	}
}

func TestAddInvalid(t *testing.T) {
	t.Parallel()
	c := calendars(t)["national"]
	for _, d := range []calendar.Duration{
		calendar.WorkHours(-1),
		calendar.WorkHours(math.NaN()),
		calendar.WorkHours(math.Inf(1)),
		calendar.WorkHours(100_001),
		calendar.WorkDays(12_501), // 8-hour days
		{Amount: 1, Unit: 0},
		{Amount: 1, Unit: 99},
	} {
		if _, err := c.Add(at(2025, 3, 3, 9, 0), d); !errors.Is(err, calendar.ErrInvalidDuration) {
			t.Errorf("Add(%s) error = %v, want ErrInvalidDuration", d, err)
		}
	}
}

func TestBetween(t *testing.T) {
	t.Parallel()
	c := calendars(t)["national"]
	tests := []struct {
		a, b time.Time
		want time.Duration
	}{
		{at(2026, 1, 2, 16, 0), at(2026, 1, 4, 12, 0), 4 * time.Hour},
		{at(2026, 1, 4, 12, 0), at(2026, 1, 2, 16, 0), -4 * time.Hour},
		{at(2026, 2, 13, 8, 0), at(2026, 2, 24, 8, 0), 14 * time.Hour}, // 2/13 and the make-up 2/14
		{at(2025, 3, 3, 12, 0), at(2025, 3, 3, 14, 30), 0},
		{at(2025, 3, 3, 11, 0), at(2025, 3, 3, 15, 0), 90 * time.Minute},
		{at(2025, 3, 3, 9, 0), at(2025, 3, 3, 9, 0), 0},
		// A whole year of 7-hour days.
		{at(2025, 1, 1, 0, 0), at(2026, 1, 1, 0, 0), time.Duration(workdays2025(t)) * 7 * time.Hour},
	}
	for _, tt := range tests {
		if got := c.Between(tt.a, tt.b); got != tt.want {
			t.Errorf("Between(%s, %s) = %s, want %s", tt.a.Format(time.DateTime), tt.b.Format(time.DateTime), got, tt.want)
		}
	}
}

// workdays2025 counts 2025's working days independently of the package's
// arithmetic: every weekday, minus listed days off, plus make-up days.
func workdays2025(t *testing.T) int {
	t.Helper()
	kind := map[calendar.Date]calendar.Kind{}
	for _, r := range calendar.National().Days {
		kind[r.Date] = r.Kind
	}
	n := 0
	for d := (calendar.Date{Year: 2025, Month: 1, Day: 1}); d.Year == 2025; d = d.AddDays(1) {
		k, ok := kind[d]
		wd := d.Weekday()
		if k == calendar.Workday || (!ok && wd != time.Saturday && wd != time.Sunday) {
			n++
		}
	}
	// 261 weekdays - 18 weekdays off (元旦 1, 春节 6, 清明 1, 劳动节 3, 端午 1,
	// 国庆 6) + 5 make-up days.
	if n != 248 {
		t.Errorf("2025 has %d working days, want 248", n)
	}
	return n
}

func TestAddStages(t *testing.T) {
	t.Parallel()
	c := calendars(t)["days"]
	// 私搭乱建: 停工 4 工作时, 处罚 7 工作日, 拆除 20 工作日, each from the
	// previous stage's deadline, starting the day before 春节 2026.
	got, err := c.AddStages(at(2026, 2, 12, 15, 0), []calendar.Duration{
		calendar.WorkHours(4), calendar.WorkDays(7), calendar.WorkDays(20),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{at(2026, 2, 13, 9, 30), at(2026, 3, 2, 9, 30), at(2026, 3, 30, 9, 30)}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("stage %d = %s, want %s", i+1, got[i], want[i])
		}
	}
	if _, err := c.AddStages(at(2026, 2, 12, 15, 0), []calendar.Duration{calendar.WorkHours(1), calendar.WorkHours(-1)}); err == nil {
		t.Error("AddStages accepted a negative stage")
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	c := calendars(t)["national"]
	got, err := c.Next(at(2026, 2, 15, 9, 0))
	if err != nil {
		t.Fatal(err)
	}
	if want := at(2026, 2, 24, 8, 0); !got.Equal(want) {
		t.Errorf("Next = %s, want %s", got, want)
	}
}

func TestOutOfRange(t *testing.T) {
	t.Parallel()
	// Working time exists (Mondays) but a tenant has marked the next two
	// centuries of Mondays off; Add must give up, not spin.
	var days []calendar.DayRule
	for d := (calendar.Date{Year: 2025, Month: 3, Day: 3}); d.Year < 2226; d = d.AddDays(7) {
		days = append(days, calendar.DayRule{Date: d, Kind: calendar.Off})
	}
	c := mustNew(t, calendar.Layer{WorkWeek: []time.Weekday{time.Monday}, Days: days})
	if _, err := c.Add(at(2025, 3, 3, 9, 0), calendar.WorkHours(1)); !errors.Is(err, calendar.ErrOutOfRange) {
		t.Errorf("Add error = %v, want ErrOutOfRange", err)
	}
}
