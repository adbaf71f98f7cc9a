package calendar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/calendar"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at returns a wall-clock time in Beijing time.
func at(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, shanghai)
}

// nanningHours is the tenant layer most tests use: 08:00-12:00 and
// 14:30-17:30 (7 hours), with summer hours 06-01..09-30 and a few local days.
const nanningJSON = `{
  "time_zone": "Asia/Shanghai",
  "hours": {"default": ["08:00-12:00", "14:30-17:30"]},
  "seasons": [
    {"name": "夏季作息", "from": "07-01", "to": "09-30",
     "hours": {"default": ["08:00-12:00", "15:00-18:00"]}}
  ],
  "days": [
    {"date": "2025-03-07", "kind": "off", "name": "县庆"},
    {"date": "2025-03-08", "kind": "workday", "name": "创文迎检值班", "hours": ["08:00-12:00"]}
  ]
}`

func tenantLayer(t testing.TB, js string) calendar.Layer {
	t.Helper()
	l, err := calendar.DecodeTenant("tenant test", strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// plainHours is a tenant with the 7-hour day and nothing else.
func plainHours(extra string) string {
	return `{"hours": {"default": ["08:00-12:00", "14:30-17:30"]}` + extra + `}`
}

func mustNew(t testing.TB, layers ...calendar.Layer) *calendar.Calendar {
	t.Helper()
	c, err := calendar.New(layers...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func guangxi(t testing.TB) calendar.Layer {
	t.Helper()
	l, err := calendar.Province("450000")
	if err != nil {
		t.Fatal(err)
	}
	return l
}
