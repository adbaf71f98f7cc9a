package dispatch_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cityops/cityops/app/platform/internal/biz/dispatch"
)

// benchMatrix is a county's matrix of n rules: 40 classes, each class's
// rules spread over the region levels, 10 streets, 10 communities and 10
// grids, some with time windows, co-departments and rotations: what a
// large tenant writes.
func benchMatrix(n int) []*dispatch.Rule {
	anchor := at("2026-01-05 08:00")
	rules := make([]*dispatch.Rule, 0, n)
	for i := range n {
		k := i / 40
		st, cm, gd := (k/5)%10, (i*7)%10, (i*13)%10
		r := rule(fmt.Sprintf("R%05d", i), []string{"hw", "cgj", "szj", "ld", "yl"}[i%5], class(fmt.Sprintf("01%02d", i%40)), prio(i%3))
		switch k % 5 {
		case 0:
			region(dispatch.LevelGrid, fmt.Sprintf("450126%03d%03d%03d", st+1, cm+1, gd+1))(r)
		case 1:
			region(dispatch.LevelCommunity, fmt.Sprintf("450126%03d%03d", st+1, cm+1))(r)
		case 2:
			region(dispatch.LevelStreet, fmt.Sprintf("450126%03d", st+1))(r)
		case 3:
			region(dispatch.LevelDistrict, district)(r)
		}
		if i%7 == 0 {
			window("22:00", "06:00")(r)
		}
		if i%11 == 0 {
			co("szj", "ld")(r)
		}
		if i%13 == 0 {
			rotate(dispatch.RotationWeek, anchor, "a", "b", "c")(r)
		}
		rules = append(rules, r)
	}
	return rules
}

// benchSubjects are the cases the benchmarks decide, round robin.
func benchSubjects() []dispatch.Subject {
	var out []dispatch.Subject
	for i := range 1000 {
		out = append(out, dispatch.Subject{
			ClassCode: fmt.Sprintf("01%02d", i%40),
			GridCode:  fmt.Sprintf("450126%03d%03d%03d", i%10+1, (i/10)%10+1, (i/100)%10+1),
			At:        at("2026-11-23 08:00").Add(time.Duration(i) * 37 * time.Minute),
		})
	}
	return out
}

// BenchmarkDecide measures the engine over a 2,000-rule matrix with an
// in-memory repository (which narrows the rules as the SQL one does), so
// the figure is the engine's own cost; data/dispatch's BenchmarkDecideStored
// adds the database.
func BenchmarkDecide(b *testing.B) {
	switches := map[string]bool{}
	for i := range 40 {
		switches[fmt.Sprintf("01%02d", i)] = i%2 == 0
	}
	u := newEngine(b, benchMatrix(2000), nil, switches, time.Time{})
	subjects := benchSubjects()
	ctx := as(1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := u.Preview(ctx, "450126", subjects[i%len(subjects)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
