package supervision

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// The scheduler's name on what it writes.
const (
	// SchedulerActor is the raised_by of the orders the scheduler raises.
	SchedulerActor = "system"
	// SchedulerActorName is the actor name of its timeline steps and orders.
	SchedulerActorName = "督办系统"
	// SchedulerPost is the post recorded on its timeline steps.
	SchedulerPost = "system"
)

// Deps are what supervision is built from. Tx must be the transaction the
// caseflow use case (Cases) runs in, so that Mark joins it.
type Deps struct {
	Cases   Cases
	Repo    Repo
	Leases  LeaseRepo // the scheduler only
	Tenants Tenants
	Tx      Transaction
}

// Scheduler is the supervision loop: one replica at a time (the lease
// holder) ticks over every active tenant.
type Scheduler struct {
	d   Deps
	cfg Config
	log *log.Helper

	mu      sync.Mutex
	fencing int64 // of the lease while this replica leads; 0 otherwise
}

// NewScheduler returns the scheduler; Run drives it, Tick is one pass.
func NewScheduler(d Deps, cfg Config) (*Scheduler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Cases == nil || d.Repo == nil || d.Leases == nil || d.Tenants == nil || d.Tx == nil {
		return nil, errors.New("supervision: the scheduler needs Cases, Repo, Leases, Tenants and Tx")
	}
	return &Scheduler{d: d, cfg: cfg, log: log.NewHelper(cfg.Logger)}, nil
}

// Config returns the configuration in force (defaults filled).
func (s *Scheduler) Config() Config { return s.cfg }

// Report counts what a tick did.
type Report struct {
	Tenants    int
	Scanned    int // candidate cases read
	Reminded   int
	Overdue    int
	Supervised int // automatic orders raised
	Escalated  int // levels reached (one per level)
	Notified   int
	Failed     int // cases left for the next tick after an error
}

func (r *Report) add(o Report) {
	r.Tenants += o.Tenants
	r.Scanned += o.Scanned
	r.Reminded += o.Reminded
	r.Overdue += o.Overdue
	r.Supervised += o.Supervised
	r.Escalated += o.Escalated
	r.Notified += o.Notified
	r.Failed += o.Failed
}

// Run ticks every Interval until ctx ends, whenever this replica holds (or
// wins) the lease; it gives the lease up on the way out so a standby takes
// over at once. It returns nil when ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	defer func() {
		// ctx is done; releasing needs a live context of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.d.Leases.Release(rctx, s.cfg.LeaseName, s.cfg.Holder, s.now()); err != nil {
			s.log.WithContext(ctx).Warnw("msg", "supervision: release lease", "error", err)
		}
	}()
	for {
		if _, _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.WithContext(ctx).Errorw("msg", "supervision: tick failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce takes or renews the lease and, if this replica leads, ticks once
// while a goroutine keeps renewing it; should the lease be lost half-way
// (a stall longer than LeaseTTL), the tick stops at the next case. led
// reports whether this replica ticked.
func (s *Scheduler) RunOnce(ctx context.Context) (led bool, rep Report, err error) {
	now := s.now()
	lease, ok, err := s.d.Leases.TryAcquire(ctx, s.cfg.LeaseName, s.cfg.Holder, s.cfg.LeaseTTL, now)
	if err != nil {
		return false, rep, fmt.Errorf("supervision lease: %w", err)
	}
	s.mu.Lock()
	prev := s.fencing
	if ok {
		s.fencing = lease.Fencing
	} else {
		s.fencing = 0
	}
	s.mu.Unlock()
	if !ok {
		if prev != 0 {
			s.log.WithContext(ctx).Infow("msg", "supervision: lost leadership", "holder", lease.Holder)
		}
		return false, rep, nil
	}
	if prev != lease.Fencing {
		s.log.WithContext(ctx).Infow("msg", "supervision: leading", "holder", s.cfg.Holder, "fencing", lease.Fencing)
	}
	tctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.keepLease(tctx, cancel, done)
	}()
	rep, err = s.Tick(tctx, now)
	close(done)
	wg.Wait()
	if rep.Reminded+rep.Overdue+rep.Supervised+rep.Escalated+rep.Failed > 0 {
		s.log.WithContext(ctx).Infow("msg", "supervision: tick", "tenants", rep.Tenants, "scanned", rep.Scanned,
			"reminded", rep.Reminded, "overdue", rep.Overdue, "supervised", rep.Supervised, "escalated", rep.Escalated,
			"notified", rep.Notified, "failed", rep.Failed)
	}
	if cause := context.Cause(tctx); err != nil && errors.Is(cause, errLeaseLost) {
		err = fmt.Errorf("%w: %w", cause, err)
	}
	return true, rep, err
}

var errLeaseLost = errors.New("supervision: lease lost during the tick")

// keepLease renews the lease every LeaseTTL/3 until done, cancelling the
// tick when a renewal fails.
func (s *Scheduler) keepLease(ctx context.Context, cancel context.CancelCauseFunc, done <-chan struct{}) {
	t := time.NewTicker(s.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			_, ok, err := s.d.Leases.TryAcquire(ctx, s.cfg.LeaseName, s.cfg.Holder, s.cfg.LeaseTTL, s.now())
			if err != nil || !ok {
				cancel(errors.Join(errLeaseLost, err))
				return
			}
		}
	}
}

func (s *Scheduler) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Tick is one pass over every active tenant at now. A tenant's failure
// does not stop the others; the errors are joined. Running it twice at the
// same now does nothing the second time: every action checks, inside its
// transaction, that it is still due.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) (Report, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var rep Report
	var errs []error
	sys := viewer.SystemContext(ctx, "supervision: list active tenants")
	token := ""
	for {
		ts, next, err := s.d.Tenants.List(sys, tenant.ListInput{Status: tenant.StatusActive, PageSize: tenant.MaxPageSize, PageToken: token})
		if err != nil {
			return rep, fmt.Errorf("supervision tick: tenants: %w", err)
		}
		for _, t := range ts {
			if err := ctx.Err(); err != nil {
				return rep, errors.Join(append(errs, err)...)
			}
			r, err := s.TickTenant(ctx, t, now)
			rep.add(r)
			if err != nil {
				errs = append(errs, fmt.Errorf("tenant %s: %w", t.Code, err))
			}
		}
		if next == "" {
			break
		}
		token = next
	}
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("supervision tick: %w", err)
	}
	return rep, nil
}

// ActingIn returns ctx acting for the scheduler inside tenant t. The
// viewer is narrowed to the tenant, in the ent privacy rules and in
// PostgreSQL row-level security alike, because the case loop looks cases
// up by number and numbers are unique per tenant only: the platform's
// all-tenant system viewer would see every tenant's case 2026112200001.
func ActingIn(ctx context.Context, t *tenant.Tenant) context.Context {
	return viewer.NewContext(ctx, &viewer.Viewer{
		Kind: viewer.Service, ActorName: SchedulerActorName, Reason: "supervision",
		HomeTenantID: t.ID, HomeTenantCode: t.Code, TenantID: t.ID, TenantCode: t.Code, TenantPath: t.Path,
	})
}

// TickTenant is Tick for one tenant.
func (s *Scheduler) TickTenant(ctx context.Context, t *tenant.Tenant, now time.Time) (Report, error) {
	rep := Report{Tenants: 1}
	ctx = ActingIn(ctx, t)
	th := s.cfg.thresholds(t.Code)
	pol, err := s.policy(ctx)
	if err != nil {
		return rep, err
	}
	var errs []error
	after := 0
	for {
		page, err := s.d.Repo.ScanClocks(ctx, ScanQuery{AfterID: after, Limit: s.cfg.PageSize, Now: now, RemindBefore: th.remindBefore})
		if err != nil {
			return rep, errors.Join(append(errs, fmt.Errorf("scan cases: %w", err))...)
		}
		for _, c := range page {
			if err := ctx.Err(); err != nil {
				return rep, errors.Join(append(errs, err)...)
			}
			rep.Scanned++
			if err := s.handle(ctx, c, now, th, pol, &rep); err != nil {
				rep.Failed++
				if len(errs) < 10 {
					errs = append(errs, fmt.Errorf("case %s: %w", c.Number, err))
				}
				s.log.WithContext(ctx).Warnw("msg", "supervision: case left for the next tick", "tenant", t.Code, "case", c.Number, "error", err)
			}
		}
		if len(page) < s.cfg.PageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	return rep, errors.Join(errs...)
}

// policy is a tenant's escalation chains, resolved for look-up by case.
type policy struct {
	chains map[Scope][]Level
	// gridChains maps a unit grid code to the responsibility grids with a
	// chain that contain it, by code.
	gridChains map[string][]string
}

func (s *Scheduler) policy(ctx context.Context) (*policy, error) {
	chains, err := s.d.Repo.Chains(ctx)
	if err != nil {
		return nil, fmt.Errorf("escalation chains: %w", err)
	}
	p := &policy{chains: map[Scope][]Level{}, gridChains: map[string][]string{}}
	var grids []string
	for _, c := range chains {
		if len(c.Levels) == 0 {
			continue
		}
		p.chains[c.Scope] = c.Levels
		if c.Scope.Kind == ScopeWorkGrid {
			grids = append(grids, c.Scope.Code)
		}
	}
	if len(grids) > 0 {
		units, err := s.d.Repo.ResponsibilityGrids(ctx, grids)
		if err != nil {
			return nil, fmt.Errorf("responsibility grids: %w", err)
		}
		for wg, us := range units {
			for _, u := range us {
				p.gridChains[u] = append(p.gridChains[u], wg)
			}
		}
		for _, wgs := range p.gridChains {
			sort.Strings(wgs)
		}
	}
	return p, nil
}

// chainFor is the chain of the narrowest scope of c that has one: a
// responsibility grid holding its unit grid (the first by code when
// several do), its street, the tenant.
func (p *policy) chainFor(c *caseflow.Case) (Scope, []Level) {
	if c.GridCode != "" {
		for _, wg := range p.gridChains[c.GridCode] {
			sc := Scope{ScopeWorkGrid, wg}
			if ls := p.chains[sc]; len(ls) > 0 {
				return sc, ls
			}
		}
	}
	if c.StreetCode != "" {
		sc := Scope{ScopeStreet, c.StreetCode}
		if ls := p.chains[sc]; len(ls) > 0 {
			return sc, ls
		}
	}
	sc := Scope{ScopeTenant, ""}
	return sc, p.chains[sc]
}

// errNotDue aborts a mark whose condition no longer holds on the fresh case
// (someone acted since the scan); the transaction rolls back, nothing is
// written.
var errNotDue = errors.New("supervision: no longer due")

// handle runs the actions due on one case, in order: reminder, overdue,
// automatic 督办, escalation levels. Each is its own transaction.
func (s *Scheduler) handle(ctx context.Context, c *caseflow.Case, now time.Time, th thresholds, pol *policy, rep *Report) error {
	var err error
	var did bool
	if remindDue(c, now, th) {
		if c, did, err = s.remind(ctx, c, now, th, rep); err != nil {
			return err
		}
		if did {
			rep.Reminded++
		}
	}
	if overdueDue(c, now) {
		if c, did, err = s.markOverdue(ctx, c, now, rep); err != nil {
			return err
		}
		if did {
			rep.Overdue++
		}
	}
	if superviseDue(c, now, th) {
		after, _ := showDuration(th.superviseAfter)
		reason := "超期逾" + after + "，系统自动督办"
		due := func(f *caseflow.Case) bool { return superviseDue(f, now, th) }
		if c, did, err = s.superviseAuto(ctx, c, now, th, reason, due, rep); err != nil {
			return err
		}
		if did {
			rep.Supervised++
		}
	}
	scope, levels := pol.chainFor(c)
	for _, l := range levels {
		if !escalateDue(c, now, l) {
			continue
		}
		if c, did, err = s.escalate(ctx, c, now, scope, l, rep); err != nil {
			return err
		}
		if !did {
			continue
		}
		rep.Escalated++
		if l.RaiseSupervision {
			reason := fmt.Sprintf("升级至%s（第 %d 级）", l.NameZH, l.Level)
			if c, did, err = s.superviseAuto(ctx, c, now, th, reason, nil, rep); err != nil {
				return err
			}
			if did {
				rep.Supervised++
			}
		}
	}
	return nil
}

// mark runs one Mark in a transaction with extra writes: change is checked
// against the fresh case (due) and applied; then runs after the Mark in the
// same transaction. did is false when the action was no longer due.
func (s *Scheduler) mark(ctx context.Context, c *caseflow.Case, op caseflow.Operation, in caseflow.Input,
	due func(*caseflow.Case) bool, change func(*caseflow.Case) map[string]string,
	before func(ctx context.Context) error, after func(ctx context.Context, c *caseflow.Case) error,
) (*caseflow.Case, bool, error) {
	var out *caseflow.Case
	err := s.d.Tx.InTx(ctx, func(ctx context.Context) error {
		if before != nil {
			if err := before(ctx); err != nil {
				return err
			}
		}
		next, err := s.d.Cases.Mark(ctx, c.Number, op, SchedulerPost, in, func(f *caseflow.Case) (map[string]string, error) {
			if due != nil && !due(f) {
				return nil, errNotDue
			}
			return change(f), nil
		})
		if err != nil {
			return err
		}
		if after != nil {
			if err := after(ctx, next); err != nil {
				return err
			}
		}
		out = next
		return nil
	})
	if errors.Is(err, errNotDue) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	return out, true, nil
}

// notify stores one message for each recipient.
func (s *Scheduler) notify(ctx context.Context, c *caseflow.Case, to []Recipient, kind NotificationKind, level int, m message, now time.Time, rep *Report) error {
	n, err := notify(ctx, s.d.Repo, c.TenantID, c.Number, to, kind, level, m, now)
	rep.Notified += n
	return err
}

func notify(ctx context.Context, repo Repo, tenantID int, number string, to []Recipient, kind NotificationKind, level int, m message, now time.Time) (int, error) {
	var ns []*Notification
	seen := map[Recipient]bool{}
	for _, r := range to {
		if r.Name == "" || seen[r] {
			continue
		}
		seen[r] = true
		ns = append(ns, &Notification{
			TenantID: tenantID, To: r, CaseNumber: number, Kind: kind, Level: level,
			MessageZH: truncate(m.zh, 512), MessageEN: truncate(m.en, 512), CreatedAt: now,
		})
	}
	if len(ns) == 0 {
		return 0, nil
	}
	if err := repo.Notify(ctx, ns); err != nil {
		return 0, fmt.Errorf("notify: %w", err)
	}
	return len(ns), nil
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// remind sends the before-deadline 催办 to the department.
func (s *Scheduler) remind(ctx context.Context, c *caseflow.Case, now time.Time, th thresholds, rep *Report) (*caseflow.Case, bool, error) {
	_, d, _ := clock(c)
	in := caseflow.Input{Opinion: "处置时限临近，系统自动催办"}
	return s.mark(ctx, c, caseflow.OpRemind, in,
		func(f *caseflow.Case) bool {
			_, fd, ok := clock(f)
			return ok && fd.Equal(d) && remindDue(f, now, th)
		},
		func(f *caseflow.Case) map[string]string {
			f.ReminderCount++
			f.PreRemindedFor = &d
			return map[string]string{"stage": string(caseflow.StageDispose), "deadline": ts(d), "auto": "true"}
		}, nil,
		func(ctx context.Context, f *caseflow.Case) error {
			return s.notify(ctx, f, stageRecipients(f, caseflow.StageDispose), KindRemind, 0, remindMessage(f.Number, d), now, rep)
		})
}

// markOverdue marks the running stage overdue and tells who answers for it.
func (s *Scheduler) markOverdue(ctx context.Context, c *caseflow.Case, now time.Time, rep *Report) (*caseflow.Case, bool, error) {
	stage, d, _ := clock(c)
	in := caseflow.Input{Opinion: "已超过" + stageNames[stage][0] + "时限"}
	return s.mark(ctx, c, caseflow.OpMarkOverdue, in,
		func(f *caseflow.Case) bool {
			fs, fd, ok := clock(f)
			return ok && fs == stage && fd.Equal(d) && overdueDue(f, now)
		},
		func(f *caseflow.Case) map[string]string {
			f.Overdue = true
			f.OverdueAt = &now
			return map[string]string{"stage": string(stage), "deadline": ts(d), "auto": "true"}
		}, nil,
		func(ctx context.Context, f *caseflow.Case) error {
			return s.notify(ctx, f, stageRecipients(f, stage), KindOverdue, 0, overdueMessage(f.Number, stage, d), now, rep)
		})
}

// superviseAuto raises an automatic 督办: the order, the mark, the
// notification. due is checked on the fresh case; nil means "no open order
// on the case" (the escalation's raise_supervision).
func (s *Scheduler) superviseAuto(ctx context.Context, c *caseflow.Case, now time.Time, th thresholds, reason string, due func(*caseflow.Case) bool, rep *Report) (*caseflow.Case, bool, error) {
	deadline := now.Add(th.superviseFor)
	var order *Order
	before := func(ctx context.Context) error {
		if due == nil {
			open, err := hasOpenOrder(ctx, s.d.Repo, c.ID)
			if err != nil {
				return err
			}
			if open {
				return errNotDue
			}
		}
		var err error
		order, err = s.d.Repo.CreateOrder(ctx, &Order{
			TenantID: c.TenantID, CaseID: c.ID, CaseNumber: c.Number, Origin: OriginAuto,
			RaisedBy: SchedulerActor, RaisedByName: SchedulerActorName, Reason: reason, Deadline: &deadline,
			RequireFeedback: c.PrimaryDepartmentCode != "", DepartmentCode: c.PrimaryDepartmentCode, State: OrderOpen, CreatedAt: now, UpdatedAt: now,
		})
		return err
	}
	in := caseflow.Input{Opinion: reason}
	return s.mark(ctx, c, caseflow.OpSupervise, in,
		func(f *caseflow.Case) bool { return supervisable(f.State) && (due == nil || due(f)) },
		func(f *caseflow.Case) map[string]string {
			f.Supervised = true
			f.SuperviseDeadline = &deadline
			return map[string]string{
				"order": strconv.Itoa(order.ID), "origin": string(OriginAuto), "deadline": ts(deadline),
				"department": order.DepartmentCode, "auto": "true",
			}
		}, before,
		func(ctx context.Context, f *caseflow.Case) error {
			return s.notify(ctx, f, caseRecipients(f), KindSupervise, 0, superviseMessage(f.Number, reason, &deadline), now, rep)
		})
}

// escalate records that the case reached level l of its chain and tells
// the level's department and people.
func (s *Scheduler) escalate(ctx context.Context, c *caseflow.Case, now time.Time, scope Scope, l Level, rep *Report) (*caseflow.Case, bool, error) {
	stage, _, _ := clock(c)
	in := caseflow.Input{Opinion: fmt.Sprintf("超期升级至%s", l.NameZH)}
	return s.mark(ctx, c, caseflow.OpEscalate, in,
		func(f *caseflow.Case) bool { return escalateDue(f, now, l) },
		func(f *caseflow.Case) map[string]string {
			f.EscalationLevel = l.Level
			return map[string]string{
				"level": strconv.Itoa(l.Level), "name": l.NameZH, "scope_kind": string(scope.Kind), "scope_code": scope.Code,
				"stage": string(stage), "overdue_minutes": strconv.Itoa(int(overdueFor(f, now) / time.Minute)), "auto": "true",
			}
		}, nil,
		func(ctx context.Context, f *caseflow.Case) error {
			to := make([]Recipient, 0, 1+len(l.NotifyLogins))
			if l.NotifyDepartmentCode != "" {
				to = append(to, Recipient{ToDepartment, l.NotifyDepartmentCode})
			}
			for _, login := range l.NotifyLogins {
				to = append(to, Recipient{ToUser, login})
			}
			return s.notify(ctx, f, to, KindEscalate, l.Level, escalateMessage(f.Number, l, overdueFor(f, now)), now, rep)
		})
}

// caseRecipients are who answers for a case now: the running stage's, or
// the department, or the dispatcher.
func caseRecipients(c *caseflow.Case) []Recipient {
	if stage, _, ok := clock(c); ok {
		return stageRecipients(c, stage)
	}
	return stageRecipients(c, caseflow.StageDispose)
}

// hasOpenOrder reports whether the case has an order not yet closed.
func hasOpenOrder(ctx context.Context, repo Repo, caseID int) (bool, error) {
	for _, st := range []OrderState{OrderOpen, OrderAnswered} {
		os, err := repo.ListOrders(ctx, OrderFilter{CaseID: caseID, State: st, Limit: 1})
		if err != nil {
			return false, err
		}
		if len(os) > 0 {
			return true, nil
		}
	}
	return false, nil
}
