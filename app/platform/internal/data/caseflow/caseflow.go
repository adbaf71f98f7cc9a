// Package caseflow stores cases, their timelines and the tenant event log
// with ent, implementing the repositories the caseflow use cases declare.
// Every method takes part in the transaction carried by its context, so a
// transition's case update, step and event commit or roll back together.
package caseflow

import (
	"context"

	"entgo.io/ent/dialect"
	"fmt"
	"slices"
	"time"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/database"
	biz "github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/casefile"
	"github.com/cityops/cityops/ent/casenumbercounter"
	"github.com/cityops/cityops/ent/casestep"
	entdep "github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/eventhead"
	"github.com/cityops/cityops/ent/schematype"
	"github.com/cityops/cityops/ent/tenantevent"
)

// eventStream is the event head of the tenant's outbound log.
const eventStream = "events"

type repo struct{ client *ent.Client }

// NewRepo returns the ent-backed case repository.
func NewRepo(client *ent.Client) biz.Repo { return &repo{client: client} }

var _ biz.Repo = (*repo)(nil)

func (r *repo) c(ctx context.Context) *ent.Client { return database.ClientFromContext(ctx, r.client) }

// NextNumber increments the tenant's counter of the day with an upsert: the
// first report of a day inserts 1, later ones add 1 to the row, which stays
// locked (PostgreSQL) or the database write-locked (SQLite, BEGIN
// IMMEDIATE) until the transaction ends, so no two reports share a number.
func (r *repo) NextNumber(ctx context.Context, tenantID int, day string) (int64, error) {
	if tx := database.TxFromContext(ctx); tx != nil {
		// One round trip: the upsert hands back the number it wrote.
		return returning(ctx, tx, `INSERT INTO case_number_counters (tenant_id, day, last) VALUES ($1, $2, 1)
			ON CONFLICT (tenant_id, day) DO UPDATE SET last = case_number_counters.last + 1 RETURNING last`, tenantID, day)
	}
	c := r.c(ctx)
	err := c.CaseNumberCounter.Create().SetTenantID(tenantID).SetDay(day).SetLast(1).
		OnConflictColumns(casenumbercounter.FieldTenantID, casenumbercounter.FieldDay).
		AddLast(1).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("allocate case number: %w", err)
	}
	row, err := c.CaseNumberCounter.Query().
		Where(casenumbercounter.TenantID(tenantID), casenumbercounter.Day(day)).Only(ctx)
	if err != nil {
		return 0, fmt.Errorf("allocate case number: %w", err)
	}
	return row.Last, nil
}

func (r *repo) Create(ctx context.Context, k *biz.Case) (*biz.Case, error) {
	row, err := r.c(ctx).CaseFile.Create().
		SetTenantID(k.TenantID).SetNumber(k.Number).SetSource(casefile.Source(k.Source)).
		SetKind(casefile.Kind(k.Kind)).SetClassCode(k.ClassCode).SetDetailCode(k.DetailCode).
		SetNationalClassCode(k.NationalClassCode).SetFilingConditionCode(k.FilingConditionCode).
		SetDescription(k.Description).SetLon(k.Lon).SetLat(k.Lat).SetAddress(k.Address).
		SetGridCode(k.GridCode).SetCommunityCode(k.CommunityCode).SetStreetCode(k.StreetCode).
		SetDistrictCode(k.DistrictCode).SetAreaClass(k.AreaClass).SetComponentObjID(k.ComponentObjID).
		SetUrgency(casefile.Urgency(k.Urgency)).SetReporterName(k.ReporterName).SetReporterPhone(k.ReporterPhone).
		SetReportedBy(k.ReportedBy).SetPrimaryDepartmentCode(k.PrimaryDepartmentCode).
		SetCoDepartmentCodes(nonNil(k.CoDepartmentCodes)).SetState(casefile.State(k.State)).SetVersion(k.Version).
		SetNillableReportedAt(k.ReportedAt).SetNillableVerifiedAt(k.VerifiedAt).SetNillableFiledAt(k.FiledAt).
		SetNillableDispatchedAt(k.DispatchedAt).SetNillableAcceptedAt(k.AcceptedAt).SetNillableFeedbackAt(k.FeedbackAt).
		SetNillableCheckedAt(k.CheckedAt).SetNillableClosedAt(k.ClosedAt).
		SetNillableVerifyDeadline(k.VerifyDeadline).SetNillableDispatchDeadline(k.DispatchDeadline).
		SetNillableDisposeDeadline(k.DisposeDeadline).SetNillableCheckDeadline(k.CheckDeadline).
		SetNillableCloseDeadline(k.CloseDeadline).SetNillableHungAt(k.HungAt).SetHangSeconds(k.HangSeconds).
		SetReworkCount(k.ReworkCount).SetReturnCount(k.ReturnCount).SetExtensionCount(k.ExtensionCount).
		SetHangCount(k.HangCount).SetReminderCount(k.ReminderCount).SetOverdue(k.Overdue).
		SetSupervised(k.Supervised).SetSelfHandled(k.SelfHandled).SetMergedInto(k.MergedInto).
		SetDispatchRuleCode(k.DispatchRuleCode).SetAutoDispatched(k.AutoDispatched).
		SetNillableOverdueAt(k.OverdueAt).SetNillablePreRemindedFor(k.PreRemindedFor).
		SetNillableSuperviseDeadline(k.SuperviseDeadline).SetEscalationLevel(k.EscalationLevel).
		SetStageDeadlines(stagesToRow(k.StageDeadlines)).
		SetCreatedAt(orNow(k.CreatedAt)).SetUpdatedAt(orNow(k.UpdatedAt)).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create case %s: %w", k.Number, err)
	}
	return toBiz(row), nil
}

func (r *repo) Get(ctx context.Context, number string) (*biz.Case, error) {
	row, err := r.c(ctx).CaseFile.Query().Where(casefile.Number(number)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.CaseNotFound(number)
		}
		return nil, fmt.Errorf("get case %s: %w", number, err)
	}
	return toBiz(row), nil
}

// Update writes every mutable column of k where the row still has the
// expected version. On PostgreSQL a concurrent writer that committed first
// makes this UPDATE find no row (it re-checks the WHERE after waiting for
// the lock), which is the optimistic lock's conflict.
func (r *repo) Update(ctx context.Context, k *biz.Case, expected int64) error {
	u := r.c(ctx).CaseFile.Update().Where(casefile.ID(k.ID), casefile.Version(expected)).
		SetKind(casefile.Kind(k.Kind)).SetClassCode(k.ClassCode).SetDetailCode(k.DetailCode).
		SetNationalClassCode(k.NationalClassCode).SetFilingConditionCode(k.FilingConditionCode).
		SetDescription(k.Description).SetLon(k.Lon).SetLat(k.Lat).SetAddress(k.Address).
		SetGridCode(k.GridCode).SetCommunityCode(k.CommunityCode).SetStreetCode(k.StreetCode).
		SetDistrictCode(k.DistrictCode).SetAreaClass(k.AreaClass).SetComponentObjID(k.ComponentObjID).
		SetUrgency(casefile.Urgency(k.Urgency)).SetReporterName(k.ReporterName).SetReporterPhone(k.ReporterPhone).
		SetPrimaryDepartmentCode(k.PrimaryDepartmentCode).SetCoDepartmentCodes(nonNil(k.CoDepartmentCodes)).
		SetState(casefile.State(k.State)).SetVersion(k.Version).SetHangSeconds(k.HangSeconds).
		SetReworkCount(k.ReworkCount).SetReturnCount(k.ReturnCount).SetExtensionCount(k.ExtensionCount).
		SetHangCount(k.HangCount).SetReminderCount(k.ReminderCount).SetOverdue(k.Overdue).
		SetSupervised(k.Supervised).SetSelfHandled(k.SelfHandled).SetMergedInto(k.MergedInto).
		SetDispatchRuleCode(k.DispatchRuleCode).SetAutoDispatched(k.AutoDispatched).
		SetEscalationLevel(k.EscalationLevel).SetStageDeadlines(stagesToRow(k.StageDeadlines)).
		SetUpdatedAt(orNow(k.UpdatedAt))
	for _, t := range []struct {
		v   *time.Time
		set func(time.Time) *ent.CaseFileUpdate
		clr func() *ent.CaseFileUpdate
	}{
		{k.ReportedAt, u.SetReportedAt, u.ClearReportedAt},
		{k.VerifiedAt, u.SetVerifiedAt, u.ClearVerifiedAt},
		{k.FiledAt, u.SetFiledAt, u.ClearFiledAt},
		{k.DispatchedAt, u.SetDispatchedAt, u.ClearDispatchedAt},
		{k.AcceptedAt, u.SetAcceptedAt, u.ClearAcceptedAt},
		{k.FeedbackAt, u.SetFeedbackAt, u.ClearFeedbackAt},
		{k.CheckedAt, u.SetCheckedAt, u.ClearCheckedAt},
		{k.ClosedAt, u.SetClosedAt, u.ClearClosedAt},
		{k.VerifyDeadline, u.SetVerifyDeadline, u.ClearVerifyDeadline},
		{k.DispatchDeadline, u.SetDispatchDeadline, u.ClearDispatchDeadline},
		{k.DisposeDeadline, u.SetDisposeDeadline, u.ClearDisposeDeadline},
		{k.CheckDeadline, u.SetCheckDeadline, u.ClearCheckDeadline},
		{k.CloseDeadline, u.SetCloseDeadline, u.ClearCloseDeadline},
		{k.HungAt, u.SetHungAt, u.ClearHungAt},
		{k.OverdueAt, u.SetOverdueAt, u.ClearOverdueAt},
		{k.PreRemindedFor, u.SetPreRemindedFor, u.ClearPreRemindedFor},
		{k.SuperviseDeadline, u.SetSuperviseDeadline, u.ClearSuperviseDeadline},
	} {
		if t.v != nil {
			t.set(*t.v)
		} else {
			t.clr()
		}
	}
	n, err := u.Save(ctx)
	if err != nil {
		return fmt.Errorf("update case %s: %w", k.Number, err)
	}
	if n == 0 {
		return biz.CaseConflict(k.Number, expected, -1)
	}
	return nil
}

func (r *repo) AppendStep(ctx context.Context, s *biz.Step) error {
	detail := s.Detail
	if detail == nil {
		detail = map[string]string{}
	}
	err := r.c(ctx).CaseStep.Create().SetTenantID(s.TenantID).SetCaseFileID(s.CaseID).SetSeq(s.Seq).
		SetOperation(string(s.Operation)).SetFromState(string(s.From)).SetToState(string(s.To)).
		SetActor(s.Actor).SetActorName(s.ActorName).SetPost(s.Post).SetOpinion(s.Opinion).
		SetNillableLon(s.Lon).SetNillableLat(s.Lat).SetAttachments(nonNil(s.Attachments)).SetDetail(detail).
		SetAt(s.At).Exec(ctx)
	if err != nil {
		return fmt.Errorf("append step %d of case %d: %w", s.Seq, s.CaseID, err)
	}
	return nil
}

func (r *repo) Steps(ctx context.Context, caseID int) ([]*biz.Step, error) {
	rows, err := r.c(ctx).CaseStep.Query().Where(casestep.CaseID(caseID)).Order(casestep.BySeq()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("steps of case %d: %w", caseID, err)
	}
	out := make([]*biz.Step, len(rows))
	for i, s := range rows {
		out[i] = &biz.Step{
			TenantID: s.TenantID, CaseID: s.CaseID, Seq: s.Seq, Operation: biz.Operation(s.Operation),
			From: biz.State(s.FromState), To: biz.State(s.ToState), Actor: s.Actor, ActorName: s.ActorName,
			Post: s.Post, Opinion: s.Opinion, Lon: s.Lon, Lat: s.Lat, Attachments: s.Attachments,
			Detail: s.Detail, At: s.At.UTC(),
		}
	}
	return out, nil
}

type eventLog struct {
	client  *ent.Client
	dialect string // "" when unknown: the portable two-statement append
}

// NewEventLog returns the ent-backed tenant event log.
func NewEventLog(client *ent.Client) biz.EventLog { return &eventLog{client: client} }

// NewEventLogOn returns the tenant event log of db, using its dialect's
// single-statement append where it has one (PostgreSQL).
func NewEventLogOn(db *database.DB) biz.EventLog {
	return &eventLog{client: db.Ent, dialect: db.Dialect}
}

var _ biz.EventLog = (*eventLog)(nil)

func (l *eventLog) c(ctx context.Context) *ent.Client {
	return database.ClientFromContext(ctx, l.client)
}

// NextSeq increments the tenant's event head with an upsert. The head row
// stays locked until the transaction ends, so the tenant's appends take
// turns, commit in sequence order, and a rollback returns its number:
// readers never see a gap that a later commit fills.
func (l *eventLog) NextSeq(ctx context.Context, tenantID int) (int64, error) {
	if tx := database.TxFromContext(ctx); tx != nil {
		return returning(ctx, tx, `INSERT INTO event_heads (tenant_id, stream, last) VALUES ($1, $2, 1)
			ON CONFLICT (tenant_id, stream) DO UPDATE SET last = event_heads.last + 1 RETURNING last`, tenantID, eventStream)
	}
	c := l.c(ctx)
	err := c.EventHead.Create().SetTenantID(tenantID).SetStream(eventStream).SetLast(1).
		OnConflictColumns(eventhead.FieldTenantID, eventhead.FieldStream).
		AddLast(1).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("next event sequence: %w", err)
	}
	head, err := c.EventHead.Query().Where(eventhead.TenantID(tenantID), eventhead.Stream(eventStream)).Only(ctx)
	if err != nil {
		return 0, fmt.Errorf("next event sequence: %w", err)
	}
	return head.Last, nil
}

func (l *eventLog) Append(ctx context.Context, e *biz.Event) error {
	if e.Seq == 0 {
		tx := database.TxFromContext(ctx)
		if tx != nil && l.dialect == dialect.Postgres {
			// Allocate and append in one statement: the head row is
			// locked from here to commit, one round trip shorter.
			seq, err := returning(ctx, tx, `WITH head AS (
				INSERT INTO event_heads (tenant_id, stream, last) VALUES ($1, $2, 1)
				ON CONFLICT (tenant_id, stream) DO UPDATE SET last = event_heads.last + 1 RETURNING last)
				INSERT INTO tenant_events (tenant_id, seq, event_id, type, subject, time, data)
				SELECT $1, head.last, $3, $4, $5, $6, $7 FROM head RETURNING seq`,
				e.TenantID, eventStream, e.ID, e.Type, e.Subject, e.Time, e.Data)
			if err != nil {
				return fmt.Errorf("append event: %w", err)
			}
			e.Seq = seq
			return nil
		}
		seq, err := l.NextSeq(ctx, e.TenantID)
		if err != nil {
			return err
		}
		e.Seq = seq
	}
	err := l.c(ctx).TenantEvent.Create().SetTenantID(e.TenantID).SetSeq(e.Seq).SetEventID(e.ID).
		SetType(e.Type).SetSubject(e.Subject).SetTime(e.Time).SetData(e.Data).Exec(ctx)
	if err != nil {
		return fmt.Errorf("append event %d: %w", e.Seq, err)
	}
	return nil
}

func (l *eventLog) List(ctx context.Context, tenantID int, after int64, limit int) ([]*biz.Event, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := l.c(ctx).TenantEvent.Query().
		Where(tenantevent.TenantID(tenantID), tenantevent.SeqGT(after)).
		Order(tenantevent.BySeq()).Limit(limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	out := make([]*biz.Event, len(rows))
	for i, e := range rows {
		out[i] = &biz.Event{TenantID: e.TenantID, Seq: e.Seq, ID: e.EventID, Type: e.Type, Subject: e.Subject, Time: e.Time.UTC(), Data: e.Data}
	}
	return out, nil
}

// returning runs an INSERT … RETURNING of one integer in the transaction.
func returning(ctx context.Context, tx *ent.Tx, query string, args ...any) (int64, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("allocate sequence: %w", err)
	}
	defer rows.Close()
	var n int64
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("allocate sequence: %w", err)
		}
		return 0, fmt.Errorf("allocate sequence: no row returned")
	}
	if err := rows.Scan(&n); err != nil {
		return 0, fmt.Errorf("allocate sequence: %w", err)
	}
	return n, rows.Close()
}

type departments struct{ client *ent.Client }

// NewDepartments returns the department look-up of the case loop.
func NewDepartments(client *ent.Client) biz.Departments { return &departments{client: client} }

var _ biz.Departments = (*departments)(nil)

func (d *departments) CodeByID(ctx context.Context, id int) (string, error) {
	dep, err := database.ClientFromContext(ctx, d.client).Department.Get(ctx, id)
	if err != nil {
		if ent.IsNotFound(err) {
			return "", errorsv1.ErrorNotFound("department %d does not exist", id)
		}
		return "", fmt.Errorf("department %d: %w", id, err)
	}
	return dep.Code, nil
}

func (d *departments) Missing(ctx context.Context, codes []string) ([]string, error) {
	found, err := database.ClientFromContext(ctx, d.client).Department.Query().
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

func toBiz(r *ent.CaseFile) *biz.Case {
	return &biz.Case{
		ID: r.ID, TenantID: r.TenantID, Number: r.Number, Source: biz.Source(r.Source), Kind: biz.Kind(r.Kind),
		ClassCode: r.ClassCode, DetailCode: r.DetailCode, NationalClassCode: r.NationalClassCode,
		FilingConditionCode: r.FilingConditionCode, Description: r.Description, Lon: r.Lon, Lat: r.Lat,
		Address: r.Address, GridCode: r.GridCode, CommunityCode: r.CommunityCode, StreetCode: r.StreetCode,
		DistrictCode: r.DistrictCode, AreaClass: r.AreaClass, ComponentObjID: r.ComponentObjID,
		Urgency: string(r.Urgency), ReporterName: r.ReporterName, ReporterPhone: r.ReporterPhone,
		ReportedBy: r.ReportedBy, PrimaryDepartmentCode: r.PrimaryDepartmentCode,
		CoDepartmentCodes: nonNil(r.CoDepartmentCodes), State: biz.State(r.State), Version: r.Version,
		ReportedAt: utc(r.ReportedAt), VerifiedAt: utc(r.VerifiedAt), FiledAt: utc(r.FiledAt),
		DispatchedAt: utc(r.DispatchedAt), AcceptedAt: utc(r.AcceptedAt), FeedbackAt: utc(r.FeedbackAt),
		CheckedAt: utc(r.CheckedAt), ClosedAt: utc(r.ClosedAt),
		VerifyDeadline: utc(r.VerifyDeadline), DispatchDeadline: utc(r.DispatchDeadline),
		DisposeDeadline: utc(r.DisposeDeadline), CheckDeadline: utc(r.CheckDeadline), CloseDeadline: utc(r.CloseDeadline),
		HungAt: utc(r.HungAt), HangSeconds: r.HangSeconds,
		ReworkCount: r.ReworkCount, ReturnCount: r.ReturnCount, ExtensionCount: r.ExtensionCount,
		HangCount: r.HangCount, ReminderCount: r.ReminderCount,
		Overdue: r.Overdue, Supervised: r.Supervised, SelfHandled: r.SelfHandled, MergedInto: r.MergedInto,
		DispatchRuleCode: r.DispatchRuleCode, AutoDispatched: r.AutoDispatched, OverdueAt: utc(r.OverdueAt),
		PreRemindedFor: utc(r.PreRemindedFor), SuperviseDeadline: utc(r.SuperviseDeadline),
		EscalationLevel: r.EscalationLevel, StageDeadlines: stagesFromRow(r.StageDeadlines),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// utc normalizes a stored time: SQLite hands times back in the local zone.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

func stagesToRow(ss []biz.StageDeadline) []schematype.StageDeadline {
	out := make([]schematype.StageDeadline, len(ss))
	for i, s := range ss {
		out[i] = schematype.StageDeadline{Stage: s.Stage, Due: s.Due}
	}
	return out
}

func stagesFromRow(ss []schematype.StageDeadline) []biz.StageDeadline {
	if len(ss) == 0 {
		return nil
	}
	out := make([]biz.StageDeadline, len(ss))
	for i, s := range ss {
		out[i] = biz.StageDeadline{Stage: s.Stage, Due: s.Due.UTC()}
	}
	return out
}
