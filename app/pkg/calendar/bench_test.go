package calendar_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/calendar"
)

// BenchmarkAdd measures deadline computations for the typical limits of
// DOMAIN §5.2 from random starts in 2025-2026, on a realistic calendar
// (national + Guangxi + tenant hours with a summer season). deadlines/s is
// the figure for the issue.
func BenchmarkAdd(b *testing.B) {
	cals := calendars(b)
	r := rand.New(rand.NewPCG(7, 7))
	starts := make([]time.Time, 1024)
	for i := range starts {
		starts[i] = randomStart(r)
	}
	for _, bc := range []struct {
		name, cal string
		d         calendar.Duration
	}{
		{"4WorkHours", "nanning", calendar.WorkHours(4)},
		{"5WorkDays/hours", "nanning", calendar.WorkDays(5)},
		{"5WorkDays/calendar_days", "nanningDays", calendar.WorkDays(5)},
		{"20WorkDays/hours", "nanning", calendar.WorkDays(20)},
		{"20WorkDays/calendar_days", "nanningDays", calendar.WorkDays(20)},
		{"10NaturalMinutes", "nanning", calendar.NaturalMinutes(10)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := cals[bc.cal]
			i := 0
			for b.Loop() {
				if _, err := c.Add(starts[i%len(starts)], bc.d); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deadlines/s")
		})
	}
}

// BenchmarkBetween measures the working time of a case open for a month,
// as an overdue report computes it for every open case.
func BenchmarkBetween(b *testing.B) {
	c := calendars(b)["nanning"]
	start := at(2026, 2, 10, 9, 0)
	end := start.AddDate(0, 1, 0)
	for b.Loop() {
		c.Between(start, end)
	}
}

// BenchmarkNew measures building a tenant calendar from its layers,
// including parsing the embedded data, as a service does per tenant.
func BenchmarkNew(b *testing.B) {
	t := tenantLayer(b, nanningJSON)
	for b.Loop() {
		p, _ := calendar.Province("450126")
		if _, err := calendar.New(calendar.National(), p, t); err != nil {
			b.Fatal(err)
		}
	}
}
