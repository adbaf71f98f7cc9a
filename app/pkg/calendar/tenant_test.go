package calendar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/calendar"
)

func TestDecodeTenant(t *testing.T) {
	t.Parallel()
	l := tenantLayer(t, `{
		"time_zone": "Asia/Urumqi",
		"work_day": {"mode": "calendar_days", "hours": 7.5},
		"work_week": ["mon", "tue", "wed", "thu", "fri", "sat"],
		"hours": {"default": ["14:30-17:30", "08:00-12:00"], "sat": ["08:00-12:00"]},
		"seasons": [{"name": "冬季作息", "from": "11-01", "to": "02-28", "hours": {"default": ["08:30-12:00"]}},
		            {"from": "2026-06-01", "to": "2026-06-30", "hours": {"default": ["07:00-11:00"]}}],
		"days": [{"date": "2026-03-06", "kind": "off", "name": "县庆"}]
	}`)
	h := func(a, b time.Duration) calendar.Window { return calendar.Window{Start: a, End: b} }
	if l.Location.String() != "Asia/Urumqi" || l.WorkDayMode != calendar.WorkDayAsCalendarDays || l.WorkDayHours != 7*time.Hour+30*time.Minute {
		t.Errorf("zone/work day = %s, %s, %s", l.Location, l.WorkDayMode, l.WorkDayHours)
	}
	if diff := cmp.Diff([]time.Weekday{1, 2, 3, 4, 5, 6}, l.WorkWeek); diff != "" {
		t.Errorf("WorkWeek (-want +got):\n%s", diff)
	}
	want := &calendar.Schedule{
		Workday: []calendar.Window{h(14*time.Hour+30*time.Minute, 17*time.Hour+30*time.Minute), h(8*time.Hour, 12*time.Hour)},
		Weekday: map[time.Weekday][]calendar.Window{time.Saturday: {h(8*time.Hour, 12*time.Hour)}},
	}
	if diff := cmp.Diff(want, l.Hours); diff != "" {
		t.Errorf("Hours (-want +got):\n%s", diff)
	}
	if len(l.Seasons) != 2 || l.Seasons[0].From != (calendar.Date{Month: 11, Day: 1}) || l.Seasons[1].From.Year != 2026 {
		t.Errorf("Seasons = %+v", l.Seasons)
	}
	c := mustNew(t, calendar.National(), l)
	// Saturday is a regular working morning now, winter hours apply in
	// January (a season that wraps over the new year), and the one-off June
	// season applies in June 2026 only.
	for _, tt := range []struct {
		t    time.Time
		want bool
	}{
		{time.Date(2025, 3, 1, 9, 0, 0, 0, l.Location), true},
		{time.Date(2025, 3, 1, 15, 0, 0, 0, l.Location), false},
		{time.Date(2025, 1, 6, 8, 15, 0, 0, l.Location), false}, // winter opens 08:30
		{time.Date(2025, 1, 6, 15, 0, 0, 0, l.Location), false}, // winter has no afternoon
		{time.Date(2026, 6, 1, 7, 30, 0, 0, l.Location), true},
		{time.Date(2026, 3, 6, 9, 0, 0, 0, l.Location), false},
	} {
		if got := c.IsWorkingTime(tt.t); got != tt.want {
			t.Errorf("IsWorkingTime(%s) = %v, want %v", tt.t, got, tt.want)
		}
	}
}

func TestDecodeTenantErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, json string
		want       []string
	}{
		{"unknown field", `{"hour": {}}`, []string{`unknown field "hour"`}},
		{"trailing data", `{} {}`, []string{"trailing data"}},
		{"bad zone", `{"time_zone": "Beijing"}`, []string{`time_zone "Beijing"`}},
		{"local zone", `{"time_zone": "Local"}`, []string{`time_zone "Local"`}},
		{"bad mode", `{"work_day": {"mode": "days"}}`, []string{`work_day.mode "days"`}},
		{"bad day length", `{"work_day": {"hours": 25}}`, []string{"work_day.hours 25"}},
		{"bad weekday", `{"work_week": ["monday"]}`, []string{`work_week "monday"`}},
		{"no default hours", `{"hours": {"mon": ["08:00-12:00"]}}`, []string{`no "default" hours`}},
		{"bad window and key", `{"hours": {"default": ["8:00-12:00"], "fri": ["08:00-12:00"], "holiday": ["08:00-09:00"]}}`,
			[]string{`default: hours "8:00-12:00"`, `key "holiday"`}},
		{"inverted window", `{"hours": {"default": ["12:00-08:00"]}}`, []string{"end is not after start"}},
		{"25:00", `{"hours": {"default": ["08:00-25:00"]}}`, []string{"HH:MM-HH:MM"}},
		{"bad season date", `{"seasons": [{"name": "夏", "from": "06-31", "to": "09-30", "hours": {"default": ["08:00-12:00"]}}]}`,
			[]string{"season 夏", `"06-31"`}},
		{"bad day", `{"days": [{"date": "2026/03/06", "kind": "off"}]}`, []string{`"2026/03/06"`}},
		{"every problem at once", `{"time_zone": "Mars/Base", "work_week": ["xx"], "days": [{"date": "x", "kind": "off"}]}`,
			[]string{"Mars/Base", `"xx"`, `date "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := calendar.DecodeTenant("tenant 450126", strings.NewReader(tt.json))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	// Unknown kinds pass the decoder and are reported by New, with the
	// layer's name.
	l := tenantLayer(t, `{"days": [{"date": "2026-03-06", "kind": "holiday"}]}`)
	if _, err := calendar.New(l); err == nil || !strings.Contains(err.Error(), `unknown kind "holiday"`) {
		t.Errorf("New error = %v", err)
	}
}

func TestParseDaysCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, csv string
		want      []string // error substrings; nil means success
	}{
		{"ok", "# notice\ndate,kind,name\n\n2027-01-01,off,元旦\n", nil},
		{"no header", "2027-01-01,off,元旦\n", []string{"want date,kind,name"}},
		{"empty", "", []string{"header"}},
		{"bad rows", "date,kind,name\n2027-01-01,holiday,元旦\n2027-13-01,off,x\n2027-01-02,off,\n2027-01-03,off,a\n2027-01-03,off,b\n",
			[]string{`line 2: kind "holiday"`, `line 3: date "2027-13-01"`, "line 4: 2027-01-02 has no name", "line 6: 2027-01-03 already listed on line 5"}},
		{"wrong field count", "date,kind,name\n2027-01-01,off\n", []string{"wrong number of fields"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := calendar.ParseDaysCSV("national 2027", strings.NewReader(tt.csv))
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if len(l.Days) != 1 || !cmp.Equal(l.Years, []int{2027}) {
					t.Errorf("layer = %+v", l)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestUnitText(t *testing.T) {
	t.Parallel()
	for _, u := range []calendar.Unit{calendar.WorkHour, calendar.WorkDay, calendar.NaturalMinute, calendar.NaturalHour} {
		b, err := u.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back calendar.Unit
		if err := back.UnmarshalText(b); err != nil || back != u {
			t.Errorf("round trip of %s: %s, %v", u, back, err)
		}
	}
	var u calendar.Unit
	if err := u.UnmarshalText([]byte("fortnight")); err == nil {
		t.Error("accepted fortnight")
	}
	if _, err := calendar.Unit(0).MarshalText(); err == nil {
		t.Error("marshalled unit 0")
	}
}
