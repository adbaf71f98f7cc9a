// Package supervision stores what supervision reads and writes with ent:
// the candidate cases of a tick, supervision orders (督办单), notifications,
// escalation chains and the scheduler's lease. Every method takes part in
// the transaction carried by its context (a db.InTx of the same
// *database.DB), so a mark, its order and its notifications commit
// together.
package supervision

import (
	"context"
	"fmt"
	"slices"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	biz "github.com/cityops/cityops/app/platform/internal/biz/supervision"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/casefile"
	entdep "github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/escalationlevel"
	"github.com/cityops/cityops/ent/notification"
	"github.com/cityops/cityops/ent/predicate"
	"github.com/cityops/cityops/ent/supervisionorder"
	"github.com/cityops/cityops/ent/workgrid"
)

type repo struct{ db *database.DB }

// NewRepo returns the ent-backed supervision repository of the viewer's
// tenant.
func NewRepo(db *database.DB) biz.Repo { return &repo{db: db} }

var _ biz.Repo = (*repo)(nil)

func (r *repo) c(ctx context.Context) *ent.Client { return r.db.Client(ctx) }

// scanFields are the columns a tick reads: the clocks, the flags and what
// a notification or an escalation needs (department, grid, street).
var scanFields = []string{
	casefile.FieldID, casefile.FieldTenantID, casefile.FieldNumber, casefile.FieldState, casefile.FieldVersion,
	casefile.FieldUrgency, casefile.FieldPrimaryDepartmentCode, casefile.FieldGridCode, casefile.FieldStreetCode,
	casefile.FieldVerifyDeadline, casefile.FieldDispatchDeadline, casefile.FieldDisposeDeadline,
	casefile.FieldCheckDeadline, casefile.FieldCloseDeadline, casefile.FieldOverdue, casefile.FieldOverdueAt,
	casefile.FieldPreRemindedFor, casefile.FieldSupervised, casefile.FieldSuperviseDeadline,
	casefile.FieldEscalationLevel, casefile.FieldReminderCount,
}

// ScanClocks reads one page of cases whose running clock is due at q.Now
// (the disposal clock: within q.RemindBefore), by id. The (tenant_id,
// state) index narrows the rows to the running states; the deadline
// conditions leave out the many cases that are on time.
func (r *repo) ScanClocks(ctx context.Context, q biz.ScanQuery) ([]*caseflow.Case, error) {
	now := q.Now.UTC()
	remind := now.Add(q.RemindBefore)
	dispose := []casefile.State{
		casefile.StateDispatched, casefile.StateInDisposal, casefile.StateReturnPending,
		casefile.StateDelayPending, casefile.StateHangPending,
	}
	states := make([]casefile.State, 0, 9)
	for _, s := range biz.RunningStates() {
		states = append(states, casefile.State(s))
	}
	rows, err := r.c(ctx).CaseFile.Query().
		Where(
			casefile.StateIn(states...),
			casefile.IDGT(q.AfterID),
			casefile.Or(
				casefile.And(casefile.StateIn(dispose...), casefile.DisposeDeadlineLTE(remind)),
				casefile.And(casefile.StateEQ(casefile.StateVerifyPending), casefile.VerifyDeadlineLTE(now)),
				casefile.And(casefile.StateEQ(casefile.StateFiled), casefile.DispatchDeadlineLTE(now)),
				casefile.And(casefile.StateEQ(casefile.StateCheckPending), casefile.CheckDeadlineLTE(now)),
				casefile.And(casefile.StateEQ(casefile.StateClosePending), casefile.CloseDeadlineLTE(now)),
			),
		).
		Order(casefile.ByID()).Limit(q.Limit).Select(scanFields...).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("scan case clocks: %w", err)
	}
	out := make([]*caseflow.Case, len(rows))
	for i, k := range rows {
		out[i] = &caseflow.Case{
			ID: k.ID, TenantID: k.TenantID, Number: k.Number, State: caseflow.State(k.State), Version: k.Version,
			Urgency: string(k.Urgency), PrimaryDepartmentCode: k.PrimaryDepartmentCode, GridCode: k.GridCode,
			StreetCode: k.StreetCode, VerifyDeadline: utc(k.VerifyDeadline), DispatchDeadline: utc(k.DispatchDeadline),
			DisposeDeadline: utc(k.DisposeDeadline), CheckDeadline: utc(k.CheckDeadline), CloseDeadline: utc(k.CloseDeadline),
			Overdue: k.Overdue, OverdueAt: utc(k.OverdueAt), PreRemindedFor: utc(k.PreRemindedFor),
			Supervised: k.Supervised, SuperviseDeadline: utc(k.SuperviseDeadline), EscalationLevel: k.EscalationLevel,
			ReminderCount: k.ReminderCount, CoDepartmentCodes: []string{},
		}
	}
	return out, nil
}

func orderToBiz(o *ent.SupervisionOrder) *biz.Order {
	return &biz.Order{
		ID: o.ID, TenantID: o.TenantID, CaseID: o.CaseID, CaseNumber: o.CaseNumber, Origin: biz.Origin(o.Origin),
		RaisedBy: o.RaisedBy, RaisedByName: o.RaisedByName, Reason: o.Reason, Deadline: utc(o.Deadline),
		RequireFeedback: o.RequireFeedback, DepartmentCode: o.DepartmentCode, State: biz.OrderState(o.State),
		Feedback: o.Feedback, FeedbackBy: o.FeedbackBy, FeedbackAt: utc(o.FeedbackAt),
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
	}
}

func (r *repo) CreateOrder(ctx context.Context, o *biz.Order) (*biz.Order, error) {
	row, err := r.c(ctx).SupervisionOrder.Create().
		SetTenantID(o.TenantID).SetCaseID(o.CaseID).SetCaseNumber(o.CaseNumber).
		SetOrigin(supervisionorder.Origin(o.Origin)).SetRaisedBy(o.RaisedBy).SetRaisedByName(o.RaisedByName).
		SetReason(o.Reason).SetNillableDeadline(o.Deadline).SetRequireFeedback(o.RequireFeedback).
		SetDepartmentCode(o.DepartmentCode).SetState(supervisionorder.State(o.State)).
		SetFeedback(o.Feedback).SetFeedbackBy(o.FeedbackBy).SetNillableFeedbackAt(o.FeedbackAt).
		SetCreatedAt(orNow(o.CreatedAt)).SetUpdatedAt(orNow(o.UpdatedAt)).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create supervision order on case %s: %w", o.CaseNumber, err)
	}
	return orderToBiz(row), nil
}

func (r *repo) GetOrder(ctx context.Context, id int) (*biz.Order, error) {
	row, err := r.c(ctx).SupervisionOrder.Get(ctx, id)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.OrderNotFound(id)
		}
		return nil, fmt.Errorf("get supervision order %d: %w", id, err)
	}
	return orderToBiz(row), nil
}

// UpdateOrder is a conditional update on the state read, so two replies
// racing for one order cannot both win.
func (r *repo) UpdateOrder(ctx context.Context, o *biz.Order, from biz.OrderState) error {
	u := r.c(ctx).SupervisionOrder.Update().
		Where(supervisionorder.ID(o.ID), supervisionorder.StateEQ(supervisionorder.State(from))).
		SetState(supervisionorder.State(o.State)).SetFeedback(o.Feedback).SetFeedbackBy(o.FeedbackBy).
		SetReason(o.Reason).SetRequireFeedback(o.RequireFeedback).SetDepartmentCode(o.DepartmentCode).
		SetUpdatedAt(orNow(o.UpdatedAt))
	if o.FeedbackAt != nil {
		u.SetFeedbackAt(*o.FeedbackAt)
	} else {
		u.ClearFeedbackAt()
	}
	if o.Deadline != nil {
		u.SetDeadline(*o.Deadline)
	} else {
		u.ClearDeadline()
	}
	n, err := u.Save(ctx)
	if err != nil {
		return fmt.Errorf("update supervision order %d: %w", o.ID, err)
	}
	if n == 0 {
		cur, err := r.GetOrder(ctx, o.ID)
		if err != nil {
			return err
		}
		return biz.OrderNotOpen(o.ID, cur.State, "update")
	}
	return nil
}

func (r *repo) ListOrders(ctx context.Context, f biz.OrderFilter) ([]*biz.Order, error) {
	q := r.c(ctx).SupervisionOrder.Query()
	if f.State != "" {
		q.Where(supervisionorder.StateEQ(supervisionorder.State(f.State)))
	}
	if f.CaseNumber != "" {
		q.Where(supervisionorder.CaseNumber(f.CaseNumber))
	}
	if f.CaseID != 0 {
		q.Where(supervisionorder.CaseID(f.CaseID))
	}
	if f.DepartmentCode != "" {
		q.Where(supervisionorder.DepartmentCode(f.DepartmentCode))
	}
	if f.BeforeID > 0 {
		q.Where(supervisionorder.IDLT(f.BeforeID))
	}
	if f.Limit > 0 {
		q.Limit(f.Limit)
	}
	rows, err := q.Order(ent.Desc(supervisionorder.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list supervision orders: %w", err)
	}
	out := make([]*biz.Order, len(rows))
	for i, o := range rows {
		out[i] = orderToBiz(o)
	}
	return out, nil
}

func (r *repo) Notify(ctx context.Context, ns []*biz.Notification) error {
	c := r.c(ctx)
	bulk := make([]*ent.NotificationCreate, len(ns))
	for i, n := range ns {
		bulk[i] = c.Notification.Create().SetTenantID(n.TenantID).
			SetRecipientKind(notification.RecipientKind(n.To.Kind)).SetRecipient(n.To.Name).
			SetCaseNumber(n.CaseNumber).SetKind(notification.Kind(n.Kind)).SetLevel(n.Level).
			SetMessageZh(n.MessageZH).SetMessageEn(n.MessageEN).SetCreatedAt(orNow(n.CreatedAt))
	}
	if err := c.Notification.CreateBulk(bulk...).Exec(ctx); err != nil {
		return fmt.Errorf("store %d notifications: %w", len(ns), err)
	}
	return nil
}

// addressedTo matches the notifications of any of the recipients.
func addressedTo(to []biz.Recipient) predicate.Notification {
	ps := make([]predicate.Notification, len(to))
	for i, r := range to {
		ps[i] = notification.And(notification.RecipientKindEQ(notification.RecipientKind(r.Kind)), notification.Recipient(r.Name))
	}
	return notification.Or(ps...)
}

func (r *repo) ListNotifications(ctx context.Context, f biz.NotificationFilter) ([]*biz.Notification, error) {
	if len(f.To) == 0 {
		return []*biz.Notification{}, nil
	}
	q := r.c(ctx).Notification.Query().Where(addressedTo(f.To))
	if f.UnreadOnly {
		q.Where(notification.ReadAtIsNil())
	}
	if f.CaseNumber != "" {
		q.Where(notification.CaseNumber(f.CaseNumber))
	}
	if f.BeforeID > 0 {
		q.Where(notification.IDLT(f.BeforeID))
	}
	if f.Limit > 0 {
		q.Limit(f.Limit)
	}
	rows, err := q.Order(ent.Desc(notification.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	out := make([]*biz.Notification, len(rows))
	for i, n := range rows {
		out[i] = &biz.Notification{
			ID: n.ID, TenantID: n.TenantID, To: biz.Recipient{Kind: biz.RecipientKind(n.RecipientKind), Name: n.Recipient},
			CaseNumber: n.CaseNumber, Kind: biz.NotificationKind(n.Kind), Level: n.Level,
			MessageZH: n.MessageZh, MessageEN: n.MessageEn, CreatedAt: n.CreatedAt.UTC(), ReadAt: utc(n.ReadAt),
		}
	}
	return out, nil
}

func (r *repo) CountUnread(ctx context.Context, to []biz.Recipient) (int, error) {
	if len(to) == 0 {
		return 0, nil
	}
	n, err := r.c(ctx).Notification.Query().Where(addressedTo(to), notification.ReadAtIsNil()).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count unread notifications: %w", err)
	}
	return n, nil
}

func (r *repo) MarkRead(ctx context.Context, to []biz.Recipient, ids []int, at time.Time) (int, error) {
	if len(to) == 0 {
		return 0, nil
	}
	u := r.c(ctx).Notification.Update().Where(addressedTo(to), notification.ReadAtIsNil())
	if ids != nil {
		u.Where(notification.IDIn(ids...))
	}
	n, err := u.SetReadAt(at).Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	return n, nil
}

func (r *repo) Chains(ctx context.Context) ([]*biz.Chain, error) {
	rows, err := r.c(ctx).EscalationLevel.Query().
		Order(ent.Asc(escalationlevel.FieldScopeKind), ent.Asc(escalationlevel.FieldScopeCode), ent.Asc(escalationlevel.FieldLevel)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("escalation chains: %w", err)
	}
	var out []*biz.Chain
	for _, l := range rows {
		scope := biz.Scope{Kind: biz.ScopeKind(l.ScopeKind), Code: l.ScopeCode}
		if len(out) == 0 || out[len(out)-1].Scope != scope {
			out = append(out, &biz.Chain{Scope: scope})
		}
		c := out[len(out)-1]
		c.Levels = append(c.Levels, biz.Level{
			Level: l.Level, NameZH: l.NameZh, AfterMinutes: l.AfterMinutes, NotifyDepartmentCode: l.NotifyDepartmentCode,
			NotifyLogins: append([]string{}, l.NotifyLogins...), RaiseSupervision: l.RaiseSupervision,
		})
		if u := l.UpdatedAt.UTC(); u.After(c.UpdatedAt) {
			c.UpdatedAt = u
		}
	}
	return out, nil
}

// ReplaceChain deletes the scope's levels and inserts the new ones, in the
// caller's transaction (or one of its own).
func (r *repo) ReplaceChain(ctx context.Context, scope biz.Scope, levels []biz.Level, at time.Time) error {
	return r.db.InTx(ctx, func(ctx context.Context) error {
		c := r.c(ctx)
		kind := escalationlevel.ScopeKind(scope.Kind)
		if _, err := c.EscalationLevel.Delete().
			Where(escalationlevel.ScopeKindEQ(kind), escalationlevel.ScopeCode(scope.Code)).Exec(ctx); err != nil {
			return fmt.Errorf("replace escalation chain: %w", err)
		}
		if len(levels) == 0 {
			return nil
		}
		tenantID, err := tenantOf(ctx)
		if err != nil {
			return err
		}
		bulk := make([]*ent.EscalationLevelCreate, len(levels))
		for i, l := range levels {
			logins := l.NotifyLogins
			if logins == nil {
				logins = []string{}
			}
			bulk[i] = c.EscalationLevel.Create().SetTenantID(tenantID).SetScopeKind(kind).SetScopeCode(scope.Code).
				SetLevel(l.Level).SetNameZh(l.NameZH).SetAfterMinutes(l.AfterMinutes).
				SetNotifyDepartmentCode(l.NotifyDepartmentCode).SetNotifyLogins(logins).
				SetRaiseSupervision(l.RaiseSupervision).SetCreatedAt(at).SetUpdatedAt(at)
		}
		if err := c.EscalationLevel.CreateBulk(bulk...).Exec(ctx); err != nil {
			return fmt.Errorf("replace escalation chain: %w", err)
		}
		return nil
	})
}

func (r *repo) ResponsibilityGrids(ctx context.Context, codes []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(codes) == 0 {
		return out, nil
	}
	rows, err := r.c(ctx).WorkGrid.Query().
		Where(workgrid.KindEQ(workgrid.KindResponsibility), workgrid.CodeIn(codes...)).
		Select(workgrid.FieldCode, workgrid.FieldUnitGridCodes).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("responsibility grids: %w", err)
	}
	for _, g := range rows {
		out[g.Code] = append([]string{}, g.UnitGridCodes...)
	}
	return out, nil
}

func (r *repo) DepartmentCode(ctx context.Context, id int) (string, error) {
	d, err := r.c(ctx).Department.Get(ctx, id)
	if err != nil {
		if ent.IsNotFound(err) {
			return "", nil
		}
		return "", fmt.Errorf("department %d: %w", id, err)
	}
	return d.Code, nil
}

func (r *repo) MissingDepartments(ctx context.Context, codes []string) ([]string, error) {
	found, err := r.c(ctx).Department.Query().
		Where(entdep.CodeIn(codes...), entdep.StatusEQ(entdep.StatusActive)).
		Select(entdep.FieldCode).Strings(ctx)
	if err != nil {
		return nil, fmt.Errorf("departments: %w", err)
	}
	var missing []string
	for _, c := range codes {
		if !slices.Contains(found, c) {
			missing = append(missing, c)
		}
	}
	return missing, nil
}

// utc normalizes a stored time: SQLite hands times back in the local zone.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now().UTC()
	}
	return t
}

// tenantOf is the viewer's acting tenant, which new rows belong to.
func tenantOf(ctx context.Context) (int, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok || v.TenantID == 0 {
		return 0, errorsv1.ErrorTenantRequired("supervision: the viewer acts in no tenant")
	}
	return v.TenantID, nil
}
