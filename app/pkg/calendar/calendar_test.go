package calendar_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/calendar"
)

func TestNationalData(t *testing.T) {
	t.Parallel()
	l := calendar.National()
	if diff := cmp.Diff([]int{2025, 2026}, l.Years); diff != "" {
		t.Errorf("Years (-want +got):\n%s", diff)
	}
	// Count per year and kind against the two notices: 2025 has 1+8+3+5+3+8
	// = 28 listed days off and 5 make-up days; 2026 has 3+9+3+5+3+3+7 = 33
	// and 6.
	count := map[[2]any]int{}
	for _, r := range l.Days {
		count[[2]any{r.Date.Year, r.Kind}]++
		// A make-up working day is always a weekend day, and no day off
		// needs listing unless it or its break matters; check the first.
		if r.Kind == calendar.Workday {
			if wd := r.Date.Weekday(); wd != time.Saturday && wd != time.Sunday {
				t.Errorf("%s %s: make-up working day on a %s", r.Date, r.Name, wd)
			}
		}
	}
	want := map[[2]any]int{
		{2025, calendar.Off}: 28, {2025, calendar.Workday}: 5,
		{2026, calendar.Off}: 33, {2026, calendar.Workday}: 6,
	}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("days per year and kind (-want +got):\n%s", diff)
	}
	if _, err := calendar.New(l); err != nil {
		t.Fatal(err)
	}
}

// TestStreaks checks the 2024 rule that consecutive working days around
// holidays are at most 6, as a typo detector for the data file: a make-up
// day entered on the wrong date usually makes a 7- or 8-day streak. Both
// notices keep the rule everywhere.
func TestStreaks(t *testing.T) {
	t.Parallel()
	c := mustNew(t, calendar.National())
	run, first := 0, calendar.Date{}
	for d := (calendar.Date{Year: 2025, Month: time.January, Day: 1}); d.Year < 2027; d = d.AddDays(1) {
		if c.Day(d).Workday {
			if run == 0 {
				first = d
			}
			run++
			continue
		}
		if run > 6 {
			t.Errorf("%d consecutive working days from %s", run, first)
		}
		run = 0
	}
}

func TestIsWorkday(t *testing.T) {
	t.Parallel()
	national := mustNew(t, calendar.National())
	gx := mustNew(t, calendar.National(), guangxi(t))
	tests := []struct {
		date     string
		national bool
		guangxi  bool
		name     string
	}{
		{"2025-01-01", false, false, "元旦"},
		{"2025-01-02", true, true, ""},
		{"2025-01-26", true, true, "春节调休上班"}, // Sunday
		{"2025-01-28", false, false, "春节"},   // 除夕
		{"2025-02-04", false, false, "春节"},
		{"2025-02-05", true, true, ""},
		{"2025-02-08", true, true, "春节调休上班"}, // Saturday
		{"2025-03-29", false, false, ""},     // ordinary Saturday
		{"2025-03-31", true, false, "壮族三月三"},
		{"2025-04-01", true, false, "壮族三月三"},
		{"2025-04-02", true, true, ""},
		{"2025-04-04", false, false, "清明节"},
		{"2025-04-27", true, true, "劳动节调休上班"},
		{"2025-05-05", false, false, "劳动节"},
		{"2025-05-31", false, false, "端午节"},
		{"2025-06-02", false, false, "端午节"},
		{"2025-09-28", true, true, "国庆节调休上班"},
		{"2025-10-08", false, false, "国庆节、中秋节"},
		{"2025-10-11", true, true, "国庆节调休上班"},
		{"2026-01-02", false, false, "元旦"},
		{"2026-01-04", true, true, "元旦调休上班"},
		{"2026-02-14", true, true, "春节调休上班"},
		{"2026-02-15", false, false, "春节"},
		{"2026-02-23", false, false, "春节"}, // Monday, 正月初七
		{"2026-02-24", true, true, ""},
		{"2026-02-28", true, true, "春节调休上班"},
		{"2026-04-06", false, false, "清明节"},
		{"2026-04-20", true, true, ""}, // 三月三 2026 is not published: ordinary Monday
		{"2026-05-05", false, false, "劳动节"},
		{"2026-05-09", true, true, "劳动节调休上班"},
		{"2026-06-19", false, false, "端午节"},
		{"2026-09-20", true, true, "国庆节调休上班"},
		{"2026-09-25", false, false, "中秋节"},
		{"2026-10-07", false, false, "国庆节"},
		{"2026-10-08", true, true, ""},
		{"2026-10-10", true, true, "国庆节调休上班"},
	}
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			t.Parallel()
			d, err := calendar.ParseDate(tt.date)
			if err != nil {
				t.Fatal(err)
			}
			noon := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, shanghai)
			if got := national.IsWorkday(noon); got != tt.national {
				t.Errorf("national IsWorkday = %v, want %v", got, tt.national)
			}
			if got := gx.IsWorkday(noon); got != tt.guangxi {
				t.Errorf("Guangxi IsWorkday = %v, want %v", got, tt.guangxi)
			}
			if got := gx.Day(d).Name; got != tt.name {
				t.Errorf("Guangxi Day name = %q, want %q", got, tt.name)
			}
		})
	}
}

func TestIsWorkdayUsesCalendarZone(t *testing.T) {
	t.Parallel()
	c := mustNew(t, calendar.National())
	// 2026-01-03 17:00 UTC is 2026-01-04 01:00 in Beijing, the make-up
	// Sunday.
	if !c.IsWorkday(time.Date(2026, 1, 3, 17, 0, 0, 0, time.UTC)) {
		t.Error("IsWorkday judged the date in UTC, not in Asia/Shanghai")
	}
}

func TestIsWorkingTime(t *testing.T) {
	t.Parallel()
	c := mustNew(t, calendar.National(), tenantLayer(t, nanningJSON))
	tests := []struct {
		t    time.Time
		want bool
	}{
		{at(2025, 3, 3, 7, 59), false},
		{at(2025, 3, 3, 8, 0), true}, // periods include their start
		{at(2025, 3, 3, 11, 59), true},
		{at(2025, 3, 3, 12, 0), false}, // … and exclude their end
		{at(2025, 3, 3, 14, 30), true},
		{at(2025, 3, 3, 17, 30), false},
		{at(2025, 7, 1, 14, 45), false}, // summer: the afternoon starts at 15:00
		{at(2025, 7, 1, 17, 45), true},
		{at(2025, 3, 7, 9, 0), false},  // tenant day off (Friday)
		{at(2025, 3, 8, 9, 0), true},   // tenant duty Saturday, morning only
		{at(2025, 3, 8, 15, 0), false}, // … no afternoon
		{at(2025, 10, 1, 9, 0), false}, // 国庆
	}
	for _, tt := range tests {
		if got := c.IsWorkingTime(tt.t); got != tt.want {
			t.Errorf("IsWorkingTime(%s) = %v, want %v", tt.t.Format(time.DateTime), got, tt.want)
		}
	}
}

func TestProvince(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code    string
		name    string
		days    int
		wantErr error // nil: success; errAny: some error
	}{
		{"450000", "province 450000", 2, nil},
		{"450126", "province 450000", 2, nil}, // 宾阳县 resolves to Guangxi
		{"110000", "province 110000", 0, nil}, // Beijing: no regional holidays
		{"650000", "", 0, calendar.ErrNoProvinceData},
		{"540102", "", 0, calendar.ErrNoProvinceData},
		{"000000", "", 0, errAny},
		{"45000", "", 0, errAny},
		{"45000x", "", 0, errAny},
		{"../../", "", 0, errAny},
	}
	for _, tt := range tests {
		l, err := calendar.Province(tt.code)
		switch {
		case tt.wantErr == nil && err != nil:
			t.Errorf("Province(%q): %v", tt.code, err)
		case tt.wantErr == errAny && err == nil, tt.wantErr != nil && tt.wantErr != errAny && !errors.Is(err, tt.wantErr):
			t.Errorf("Province(%q) error = %v, want %v", tt.code, err, tt.wantErr)
		case err == nil && (l.Name != tt.name || len(l.Days) != tt.days):
			t.Errorf("Province(%q) = %q with %d days, want %q with %d", tt.code, l.Name, len(l.Days), tt.name, tt.days)
		}
	}
}

var errAny = errors.New("any error")

func TestCovers(t *testing.T) {
	t.Parallel()
	n := mustNew(t, calendar.National(), tenantLayer(t, nanningJSON))
	g := mustNew(t, calendar.National(), guangxi(t))
	tests := []struct {
		t             time.Time
		national, gxi bool
	}{
		{at(2024, 12, 31, 12, 0), false, false},
		{at(2025, 6, 1, 12, 0), true, true},
		{at(2026, 6, 1, 12, 0), true, false}, // Guangxi's 2026 三月三 is not in the data
		{at(2027, 1, 1, 12, 0), false, false},
	}
	for _, tt := range tests {
		if got := n.Covers(tt.t); got != tt.national {
			t.Errorf("national Covers(%s) = %v, want %v", tt.t, got, tt.national)
		}
		if got := g.Covers(tt.t); got != tt.gxi {
			t.Errorf("Guangxi Covers(%s) = %v, want %v", tt.t, got, tt.gxi)
		}
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	d := func(s string) calendar.Date {
		x, err := calendar.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	h := func(a, b int) calendar.Window {
		return calendar.Window{Start: time.Duration(a) * time.Hour, End: time.Duration(b) * time.Hour}
	}
	tests := []struct {
		name  string
		layer calendar.Layer
		want  string // substring of the error; "" means success
	}{
		{"empty", calendar.Layer{}, ""},
		{"overlapping hours", calendar.Layer{Hours: &calendar.Schedule{Workday: []calendar.Window{h(8, 12), h(11, 17)}}},
			"overlap"},
		{"touching hours are fine", calendar.Layer{Hours: &calendar.Schedule{Workday: []calendar.Window{h(8, 12), h(12, 17)}}}, ""},
		{"inverted hours", calendar.Layer{Hours: &calendar.Schedule{Workday: []calendar.Window{h(12, 8)}}}, "end is not after start"},
		{"hours past midnight", calendar.Layer{Hours: &calendar.Schedule{Workday: []calendar.Window{h(20, 25)}}}, "outside 00:00-24:00"},
		{"no hours", calendar.Layer{Hours: &calendar.Schedule{}}, "no working-day hours"},
		{"empty weekday hours", calendar.Layer{Hours: &calendar.Schedule{Workday: []calendar.Window{h(8, 12)},
			Weekday: map[time.Weekday][]calendar.Window{time.Friday: {}}}}, "Friday: no hours"},
		{"unknown kind", calendar.Layer{Days: []calendar.DayRule{{Date: d("2025-05-06"), Kind: "holiday"}}}, `unknown kind "holiday"`},
		{"date twice", calendar.Layer{Days: []calendar.DayRule{{Date: d("2025-05-06"), Kind: calendar.Off}, {Date: d("2025-05-06"), Kind: calendar.Workday}}}, "listed twice"},
		{"bad date", calendar.Layer{Days: []calendar.DayRule{{Date: calendar.Date{Year: 2025, Month: 2, Day: 30}, Kind: calendar.Off}}}, "not a valid date"},
		{"hours on a day off", calendar.Layer{Days: []calendar.DayRule{{Date: d("2025-05-06"), Kind: calendar.Off, Hours: []calendar.Window{h(8, 9)}}}}, "a day off has no hours"},
		{"inverted season", calendar.Layer{Seasons: []calendar.Season{{From: d("2025-09-30"), To: d("2025-07-01"),
			Hours: calendar.DefaultSchedule()}}}, "end before start"},
		{"mixed season bounds", calendar.Layer{Seasons: []calendar.Season{{From: calendar.Date{Month: 7, Day: 1}, To: d("2025-07-01"),
			Hours: calendar.DefaultSchedule()}}}, "both must be"},
		{"overlapping recurring seasons", calendar.Layer{Seasons: []calendar.Season{
			{Name: "summer", From: calendar.Date{Month: 6, Day: 1}, To: calendar.Date{Month: 9, Day: 30}, Hours: calendar.DefaultSchedule()},
			{Name: "winter", From: calendar.Date{Month: 9, Day: 30}, To: calendar.Date{Month: 2, Day: 28}, Hours: calendar.DefaultSchedule()},
		}}, "overlaps season summer"},
		{"wrapping seasons that do not overlap", calendar.Layer{Seasons: []calendar.Season{
			{Name: "summer", From: calendar.Date{Month: 6, Day: 1}, To: calendar.Date{Month: 9, Day: 30}, Hours: calendar.DefaultSchedule()},
			{Name: "winter", From: calendar.Date{Month: 11, Day: 1}, To: calendar.Date{Month: 2, Day: 29}, Hours: calendar.DefaultSchedule()},
		}}, ""},
		{"no working weekday", calendar.Layer{WorkWeek: []time.Weekday{}}, "no regular working weekday"},
		{"bad weekday", calendar.Layer{WorkWeek: []time.Weekday{9}}, "weekday 9"},
		{"bad work day mode", calendar.Layer{WorkDayMode: 7}, "work day mode 7"},
		{"bad work day hours", calendar.Layer{WorkDayHours: 25 * time.Hour}, "work day hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := calendar.New(calendar.National(), tt.layer)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("New: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("New error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestNewReportsEveryLayer(t *testing.T) {
	t.Parallel()
	bad := calendar.Layer{Name: "tenant 450126", Days: []calendar.DayRule{{Date: calendar.Date{Year: 2025, Month: 5, Day: 6}, Kind: "rest"}},
		WorkDayMode: 9}
	_, err := calendar.New(calendar.National(), bad)
	if err == nil {
		t.Fatal("New succeeded")
	}
	for _, want := range []string{`layer tenant 450126: day 2025-05-06: unknown kind "rest"`, "work day mode 9"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestLaterLayerWins(t *testing.T) {
	t.Parallel()
	// A tenant that must staff the 2026-01-02 holiday and gives 2026-01-04
	// (a national make-up Sunday) off in exchange.
	c := mustNew(t, calendar.National(), tenantLayer(t, plainHours(`, "days": [
		{"date": "2026-01-02", "kind": "workday", "name": "值班"},
		{"date": "2026-01-04", "kind": "off", "name": "补休"}]`)))
	if !c.IsWorkday(at(2026, 1, 2, 9, 0)) || c.IsWorkday(at(2026, 1, 4, 9, 0)) {
		t.Error("tenant days did not override the national layer")
	}
	info := c.Day(calendar.Date{Year: 2026, Month: 1, Day: 4})
	if info.Name != "补休" || info.Layer != "tenant test" {
		t.Errorf("Day = %+v", info)
	}
}
