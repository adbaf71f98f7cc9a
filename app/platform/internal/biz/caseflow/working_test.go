package caseflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/calendar"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
)

type fixedLimits map[string]calendar.Duration

func (f fixedLimits) DisposeLimit(_ context.Context, req caseflow.DeadlineRequest) (calendar.Duration, bool, error) {
	l, ok := f[req.ClassCode+"/"+req.AreaClass]
	return l, ok, nil
}

func TestWorkingDeadlinesHonourHolidays(t *testing.T) {
	t.Parallel()
	cst := time.FixedZone("CST", 8*3600)
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, cst) }
	w := &caseflow.WorkingDeadlines{Limits: fixedLimits{
		"06010/A": calendar.WorkHours(4), // 暴露垃圾 in an A area: 4 工作时
		"06001/B": calendar.WorkDays(20), // 私搭乱建 拆除
	}}
	cases := []struct {
		name string
		req  caseflow.DeadlineRequest
		want time.Time
	}{
		// 2026-01-02 (Fri) is part of 元旦; 2026-01-04 (Sun) is a 调休 working day.
		{"元旦 then 调休 Sunday", caseflow.DeadlineRequest{TenantCode: "450126", Stage: caseflow.StageDispose, ClassCode: "06010", AreaClass: "A", From: at(2026, 1, 2, 16, 0)},
			at(2026, 1, 4, 12, 0)},
		{"afternoon spill-over", caseflow.DeadlineRequest{TenantCode: "450126", Stage: caseflow.StageDispose, ClassCode: "06010", AreaClass: "A", From: at(2026, 3, 10, 16, 0)},
			at(2026, 3, 11, 10, 30)},
		{"urgent runs in natural time", caseflow.DeadlineRequest{TenantCode: "450126", Stage: caseflow.StageDispatch, Urgency: caseflow.UrgencyUrgent, From: at(2026, 2, 17, 3, 0)},
			at(2026, 2, 17, 3, 10)},
		{"default dispatch: 30 working minutes", caseflow.DeadlineRequest{TenantCode: "450126", Stage: caseflow.StageDispatch, From: at(2026, 3, 10, 11, 50)},
			at(2026, 3, 10, 14, 50)},
	}
	for _, c := range cases {
		got, err := w.Due(context.Background(), c.req)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("%s: %v %v, want %v", c.name, got, err, c.want)
		}
	}
	// 20 working days across 春节 2026 (2/15–2/23 off, 2/14 and 2/28 worked)
	// end later than 20 weekdays would.
	long, err := w.Due(context.Background(), caseflow.DeadlineRequest{TenantCode: "450126", Stage: caseflow.StageDispose,
		ClassCode: "06001", AreaClass: "B", From: at(2026, 2, 9, 8, 0)})
	if err != nil || !long.After(at(2026, 3, 9, 8, 0)) {
		t.Fatalf("20 work days over 春节: %v %v", long, err)
	}
	// An 8-hour extension from Friday 16:00 counts 1.5 h on Friday, 4 h on
	// Monday morning and 2.5 h after 14:30: Monday 17:00.
	ext, err := w.Extend(context.Background(), "450126", at(2026, 3, 13, 16, 0), 8*time.Hour)
	if err != nil || !ext.Equal(at(2026, 3, 16, 17, 0)) {
		t.Fatalf("extension: %v %v", ext, err)
	}
}
