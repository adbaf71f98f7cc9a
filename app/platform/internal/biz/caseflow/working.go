package caseflow

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cityops/cityops/app/pkg/calendar"
)

// StageLimits says how long a stage may take. DisposeLimit is the time
// limit of the case's filing condition for its area class (立案条件 × 区域类别,
// from the taxonomy); ok false means none is configured and the default
// applies.
type StageLimits interface {
	DisposeLimit(ctx context.Context, req DeadlineRequest) (limit calendar.Duration, ok bool, err error)
}

// NamedLimit is the limit of one stage of a staged disposal limit.
type NamedLimit struct {
	Stage string
	Limit calendar.Duration
}

// StagedLimits is a StageLimits that also knows staged disposal limits
// (停工 → 处罚 → 拆除): ok false when the case's condition has none.
type StagedLimits interface {
	DisposeStages(ctx context.Context, req DeadlineRequest) (stages []NamedLimit, ok bool, err error)
}

// StagedDeadlines is a Deadlines that also computes the deadlines of the
// stages of a staged disposal limit, one after the other from req.From.
type StagedDeadlines interface {
	Stages(ctx context.Context, req DeadlineRequest) ([]StageDeadline, error)
}

var _ StagedDeadlines = (*WorkingDeadlines)(nil)

// Stages implements StagedDeadlines: each stage starts when the one
// before it is due.
func (w *WorkingDeadlines) Stages(ctx context.Context, req DeadlineRequest) ([]StageDeadline, error) {
	sl, ok := w.Limits.(StagedLimits)
	if !ok || req.Urgency == UrgencyUrgent {
		return nil, nil
	}
	stages, ok, err := sl.DisposeStages(ctx, req)
	if err != nil || !ok {
		return nil, err
	}
	cal, err := w.calendar(req.TenantCode)
	if err != nil {
		return nil, err
	}
	out := make([]StageDeadline, 0, len(stages))
	at := req.From
	for _, s := range stages {
		if at, err = cal.Add(at, s.Limit); err != nil {
			return nil, fmt.Errorf("stage %s: %w", s.Stage, err)
		}
		out = append(out, StageDeadline{Stage: s.Stage, Due: at.UTC().Truncate(time.Microsecond)})
	}
	return out, nil
}

// WorkingDeadlines computes stage deadlines on each tenant's working
// calendar (national holidays and 调休 days, the province's own holidays, the
// tenant's working hours): a limit in 工作时/工作日 skips nights, weekends
// and holidays; an urgent case's limits run in natural time, as
// emergencies do.
type WorkingDeadlines struct {
	// Calendar returns a tenant's calendar; nil uses DefaultCalendar.
	Calendar func(tenantCode string) (*calendar.Calendar, error)
	// Limits looks up filing-condition limits; nil uses the defaults only.
	Limits StageLimits
	// Default and Urgent are the limits of each stage when nothing more
	// specific applies; a missing stage takes DefaultWorkingLimits.
	Default, Urgent map[Stage]calendar.Duration

	mu   sync.Mutex
	cals map[string]*calendar.Calendar
}

var _ Deadlines = (*WorkingDeadlines)(nil)

// DefaultWorkingLimits are the stage limits without a filing condition:
// 核实 and 核查 within 1 working hour, 立案+派遣 within 30 minutes of
// working time, disposal within 1 working day, 结案 within 1 working hour;
// urgent cases in natural time (10 minutes to dispatch, 2 hours to
// dispose), after DOMAIN §5.2.
func DefaultWorkingLimits(urgent bool) map[Stage]calendar.Duration {
	if urgent {
		return map[Stage]calendar.Duration{
			StageVerify: calendar.NaturalMinutes(30), StageDispatch: calendar.NaturalMinutes(10),
			StageDispose: calendar.NaturalHours(2), StageCheck: calendar.NaturalMinutes(30), StageClose: calendar.NaturalMinutes(30),
		}
	}
	return map[Stage]calendar.Duration{
		StageVerify: calendar.WorkHours(1), StageDispatch: calendar.WorkHours(0.5),
		StageDispose: calendar.WorkDays(1), StageCheck: calendar.WorkHours(1), StageClose: calendar.WorkHours(1),
	}
}

// DefaultCalendar is the national calendar plus the tenant's province and
// the usual office hours of a city-management center (08:00–12:00,
// 14:30–17:30), for tenants that configured none.
func DefaultCalendar(tenantCode string) (*calendar.Calendar, error) {
	layers := []calendar.Layer{calendar.National()}
	if p, err := calendar.Province(tenantCode); err == nil {
		layers = append(layers, p)
	}
	spec := calendar.TenantSpec{Hours: map[string][]string{"default": {"08:00-12:00", "14:30-17:30"}}}
	t, err := spec.Layer("tenant " + tenantCode)
	if err != nil {
		return nil, err
	}
	return calendar.New(append(layers, t)...)
}

func (w *WorkingDeadlines) calendar(code string) (*calendar.Calendar, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.cals[code]; ok {
		return c, nil
	}
	get := w.Calendar
	if get == nil {
		get = DefaultCalendar
	}
	c, err := get(code)
	if err != nil {
		return nil, fmt.Errorf("calendar of tenant %s: %w", code, err)
	}
	if w.cals == nil {
		w.cals = map[string]*calendar.Calendar{}
	}
	w.cals[code] = c
	return c, nil
}

func (w *WorkingDeadlines) limit(ctx context.Context, req DeadlineRequest) (calendar.Duration, error) {
	urgent := req.Urgency == UrgencyUrgent
	if req.Stage == StageDispose && w.Limits != nil && !urgent {
		if l, ok, err := w.Limits.DisposeLimit(ctx, req); err != nil {
			return calendar.Duration{}, err
		} else if ok {
			return l, nil
		}
	}
	set := w.Default
	if urgent {
		set = w.Urgent
	}
	if l, ok := set[req.Stage]; ok {
		return l, nil
	}
	return DefaultWorkingLimits(urgent)[req.Stage], nil
}

// Due implements Deadlines.
func (w *WorkingDeadlines) Due(ctx context.Context, req DeadlineRequest) (time.Time, error) {
	cal, err := w.calendar(req.TenantCode)
	if err != nil {
		return time.Time{}, err
	}
	l, err := w.limit(ctx, req)
	if err != nil {
		return time.Time{}, err
	}
	return cal.Add(req.From, l)
}

// Extend implements Deadlines: d is counted in working time (an extension
// of 8 hours granted on a Friday afternoon ends on the next working day).
func (w *WorkingDeadlines) Extend(_ context.Context, tenantCode string, deadline time.Time, d time.Duration) (time.Time, error) {
	cal, err := w.calendar(tenantCode)
	if err != nil {
		return time.Time{}, err
	}
	return cal.Add(deadline, calendar.WorkHours(d.Hours()))
}
