package calendar_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/cityops/cityops/app/pkg/calendar"
)

// A Nanning county tenant: national holidays, Guangxi's 三月三 and its own
// working hours. A case dispatched on the 2026 New Year's Day holiday with
// 4 工作时 is due at noon on the make-up Sunday.
func Example() {
	tenant, err := calendar.DecodeTenant("tenant 450126", strings.NewReader(`{
		"hours": {"default": ["08:00-12:00", "14:30-17:30"]},
		"work_day": {"mode": "calendar_days", "hours": 7}
	}`))
	if err != nil {
		panic(err)
	}
	guangxi, err := calendar.Province("450126")
	if err != nil {
		panic(err)
	}
	cal, err := calendar.New(calendar.National(), guangxi, tenant)
	if err != nil {
		panic(err)
	}
	loc := cal.Location()

	due, _ := cal.Add(time.Date(2026, 1, 2, 16, 0, 0, 0, loc), calendar.WorkHours(4))
	fmt.Println("4 工作时:", due.Format("2006-01-02 15:04 Mon"))

	due, _ = cal.Add(time.Date(2025, 3, 28, 10, 0, 0, 0, loc), calendar.WorkDays(1))
	fmt.Println("1 工作日 over 三月三:", due.Format("2006-01-02 15:04 Mon"))

	stages, _ := cal.AddStages(time.Date(2026, 2, 12, 15, 0, 0, 0, loc), []calendar.Duration{
		calendar.WorkHours(4), calendar.WorkDays(7), calendar.WorkDays(20),
	})
	for i, name := range []string{"停工", "处罚", "拆除"} {
		fmt.Println(name, stages[i].Format("2006-01-02 15:04 Mon"))
	}
	fmt.Println("2026 covered:", cal.Covers(time.Date(2026, 6, 1, 0, 0, 0, 0, loc)))
	// Output:
	// 4 工作时: 2026-01-04 12:00 Sun
	// 1 工作日 over 三月三: 2025-04-02 10:00 Wed
	// 停工 2026-02-13 09:30 Fri
	// 处罚 2026-03-02 09:30 Mon
	// 拆除 2026-03-30 09:30 Mon
	// 2026 covered: false
}

// A case hung (挂账) for a day does not spend its time limit. With the
// default hours (09:00-12:00, 13:00-18:00), 4 工作时 from Monday 09:00 plus
// a 2-hour extension, paused from 10:00 to Tuesday 09:00, runs out Tuesday
// 15:00.
func ExampleClock() {
	cal, _ := calendar.New(calendar.National())
	loc := cal.Location()
	clock, _ := cal.NewClock(time.Date(2025, 3, 3, 9, 0, 0, 0, loc), calendar.WorkHours(4))
	_ = clock.Pause(time.Date(2025, 3, 3, 10, 0, 0, 0, loc))
	_ = clock.Resume(time.Date(2025, 3, 4, 9, 0, 0, 0, loc))
	_ = clock.Extend(calendar.WorkHours(2)) // 延期
	due, _ := clock.Deadline()
	fmt.Println(due.Format("2006-01-02 15:04"), clock.Remaining(time.Date(2025, 3, 4, 12, 0, 0, 0, loc)))
	// Output:
	// 2025-03-04 15:00 2h0m0s
}
