package caseflow

import (
	"context"
	"time"
)

// Stage is a timed stage of the loop; each has its own deadline.
type Stage string

// Stages with deadlines.
const (
	StageVerify   Stage = "verify"   // 核实
	StageDispatch Stage = "dispatch" // 立案+派遣
	StageDispose  Stage = "dispose"  // 处置
	StageCheck    Stage = "check"    // 核查
	StageClose    Stage = "close"    // 结案
)

// DeadlineRequest is what a stage's time limit depends on (DOMAIN §5: the
// filing condition × urgency × area class, on the tenant's calendar).
type DeadlineRequest struct {
	TenantCode          string
	Stage               Stage
	Urgency             string
	Kind                Kind
	ClassCode           string
	FilingConditionCode string
	AreaClass           string
	// From is when the stage starts.
	From time.Time
}

// Deadlines computes stage deadlines. The tenant working calendar
// (app/pkg/calendar) will implement it with working-time arithmetic; until
// it is wired, NaturalDeadlines counts natural time.
type Deadlines interface {
	// Due returns when the stage starting at req.From must end.
	Due(ctx context.Context, req DeadlineRequest) (time.Time, error)
	// Extend moves a deadline by d of the tenant's counted time (a granted
	// extension, or the time a hung case stood still).
	Extend(ctx context.Context, tenantCode string, deadline time.Time, d time.Duration) (time.Time, error)
}

// NaturalDeadlines counts natural time: a stage's limit is a fixed
// duration by urgency. Its zero value uses DefaultLimits.
type NaturalDeadlines struct {
	// Limits and UrgentLimits map a stage to its limit; a stage missing
	// from them takes its default.
	Limits, UrgentLimits map[Stage]time.Duration
}

// DefaultLimits returns the natural-time limits of NaturalDeadlines, after
// the published examples of DOMAIN §5.2 (立案+派遣 30 min, 10 min when
// urgent; 核查 1 h) and one day for disposal, which real tenants replace
// per filing condition.
func DefaultLimits(urgent bool) map[Stage]time.Duration {
	if urgent {
		return map[Stage]time.Duration{
			StageVerify: 30 * time.Minute, StageDispatch: 10 * time.Minute, StageDispose: 2 * time.Hour,
			StageCheck: 30 * time.Minute, StageClose: 30 * time.Minute,
		}
	}
	return map[Stage]time.Duration{
		StageVerify: time.Hour, StageDispatch: 30 * time.Minute, StageDispose: 24 * time.Hour,
		StageCheck: time.Hour, StageClose: time.Hour,
	}
}

var _ Deadlines = NaturalDeadlines{}

// Due implements Deadlines.
func (n NaturalDeadlines) Due(_ context.Context, req DeadlineRequest) (time.Time, error) {
	urgent := req.Urgency == UrgencyUrgent
	limits := n.Limits
	if urgent {
		limits = n.UrgentLimits
	}
	d, ok := limits[req.Stage]
	if !ok {
		d = DefaultLimits(urgent)[req.Stage]
	}
	return req.From.Add(d), nil
}

// Extend implements Deadlines.
func (NaturalDeadlines) Extend(_ context.Context, _ string, deadline time.Time, d time.Duration) (time.Time, error) {
	return deadline.Add(d), nil
}
