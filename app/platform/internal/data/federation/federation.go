// Package federation stores the federated store (events, cases and
// indicators received from descendants), the federation commands, the
// dead letters of the consumers and the peer keys with ent, implementing
// the interfaces biz/federation declares. Every method takes part in the
// transaction carried by its context and acts in the viewer's tenant
// (ent privacy rules; row-level security on PostgreSQL), except where it
// says it is called as the system.
package federation

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	biz "github.com/cityops/cityops/app/platform/internal/biz/federation"
	"github.com/cityops/cityops/ent"
	entconnector "github.com/cityops/cityops/ent/connector"
	"github.com/cityops/cityops/ent/deadletter"
	"github.com/cityops/cityops/ent/federatedcase"
	"github.com/cityops/cityops/ent/federatedevent"
	"github.com/cityops/cityops/ent/federatedindicator"
	"github.com/cityops/cityops/ent/federationcommand"
	"github.com/cityops/cityops/ent/peerkey"
	"github.com/cityops/cityops/ent/predicate"
)

type store struct{ client *ent.Client }

// NewStore returns the ent-backed federated store.
func NewStore(client *ent.Client) biz.Store { return &store{client: client} }

var _ biz.Store = (*store)(nil)

func (s *store) c(ctx context.Context) *ent.Client { return database.ClientFromContext(ctx, s.client) }

// insertEventSQL deduplicates by the unique (tenant_id, event_id): a
// re-delivered event inserts nothing, and the statement tells so through
// its row count on both dialects, without an error that would abort the
// transaction on PostgreSQL.
const insertEventSQL = `INSERT INTO federated_events
	(tenant_id, event_id, source_code, source_seq, type, subject, time, data, received_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
	ON CONFLICT (tenant_id, event_id) DO NOTHING`

func (s *store) InsertEvent(ctx context.Context, e *biz.Event) (bool, error) {
	res, err := s.c(ctx).ExecContext(ctx, insertEventSQL, e.TenantID, e.EventID, e.SourceCode, e.SourceSeq,
		e.Type, e.Subject, e.Time.UTC(), e.Data, e.ReceivedAt.UTC())
	if err != nil {
		return false, fmt.Errorf("insert federated event %s: %w", e.EventID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert federated event %s: %w", e.EventID, err)
	}
	return n == 1, nil
}

// InsertEvents is InsertEvent for many events in one statement; RETURNING
// names the rows it inserted (a conflict inserts nothing and returns
// nothing). It must run inside a transaction (InTx): on PostgreSQL a
// query's rows carry the tenant scope only there.
func (s *store) InsertEvents(ctx context.Context, evs []*biz.Event) (map[string]bool, error) {
	fresh := make(map[string]bool, len(evs))
	if len(evs) == 0 {
		return fresh, nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO federated_events
	(tenant_id, event_id, source_code, source_seq, type, subject, time, data, received_at) VALUES `)
	args := make([]any, 0, 9*len(evs))
	for i, e := range evs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for j := range 9 {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString("$" + strconv.Itoa(len(args)+j+1))
		}
		b.WriteByte(')')
		args = append(args, e.TenantID, e.EventID, e.SourceCode, e.SourceSeq, e.Type, e.Subject, e.Time.UTC(), e.Data, e.ReceivedAt.UTC())
	}
	b.WriteString(` ON CONFLICT (tenant_id, event_id) DO NOTHING RETURNING event_id`)
	rows, err := s.c(ctx).QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("insert %d federated events: %w", len(evs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("insert federated events: %w", err)
		}
		fresh[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert federated events: %w", err)
	}
	return fresh, nil
}

func (s *store) ApplyCase(ctx context.Context, k *biz.ChildCase) (bool, error) {
	c := s.c(ctx)
	key := []predicate.FederatedCase{
		federatedcase.TenantID(k.TenantID), federatedcase.SourceCode(k.SourceCode), federatedcase.Number(k.Number),
	}
	// Only a version at least as new overwrites: events of one case come
	// in order on one partition, but a replay or a second connector may
	// bring an older one after a newer.
	u := c.FederatedCase.Update().Where(append(key, federatedcase.VersionLTE(k.Version))...).
		SetState(string(k.State)).SetSource(string(k.Source)).SetKind(string(k.Kind)).
		SetClassCode(k.ClassCode).SetNationalClassCode(k.NationalClassCode).
		SetLon(k.Lon).SetLat(k.Lat).SetAddress(k.Address).SetGridCode(k.GridCode).SetStreetCode(k.StreetCode).
		SetDistrictCode(k.DistrictCode).SetAreaClass(k.AreaClass).SetUrgency(k.Urgency).
		SetPrimaryDepartmentCode(k.PrimaryDepartmentCode).SetOverdue(k.Overdue).SetSupervised(k.Supervised).
		SetVersion(k.Version).SetLastSeq(k.LastSeq).SetLastEventAt(k.LastEventAt).SetData(k.Data)
	// The new state clears what it no longer has (a returned case has no
	// disposal deadline, a reopened one is no longer closed).
	if k.DisposeDeadline != nil {
		u.SetDisposeDeadline(*k.DisposeDeadline)
	} else {
		u.ClearDisposeDeadline()
	}
	if k.ClosedAt != nil {
		u.SetClosedAt(*k.ClosedAt)
	} else {
		u.ClearClosedAt()
	}
	n, err := u.Save(ctx)
	if err != nil {
		return false, fmt.Errorf("update federated case %s/%s: %w", k.SourceCode, k.Number, err)
	}
	if n > 0 {
		return true, nil
	}
	exists, err := c.FederatedCase.Query().Where(key...).Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("federated case %s/%s: %w", k.SourceCode, k.Number, err)
	}
	if exists {
		return false, nil // a newer version is stored
	}
	err = c.FederatedCase.Create().SetTenantID(k.TenantID).SetSourceCode(k.SourceCode).SetNumber(k.Number).
		SetState(string(k.State)).SetSource(string(k.Source)).SetKind(string(k.Kind)).
		SetClassCode(k.ClassCode).SetNationalClassCode(k.NationalClassCode).SetDescription(k.Description).
		SetLon(k.Lon).SetLat(k.Lat).SetAddress(k.Address).SetGridCode(k.GridCode).SetStreetCode(k.StreetCode).
		SetDistrictCode(k.DistrictCode).SetAreaClass(k.AreaClass).SetUrgency(k.Urgency).
		SetPrimaryDepartmentCode(k.PrimaryDepartmentCode).SetOverdue(k.Overdue).SetSupervised(k.Supervised).
		SetNillableReportedAt(k.ReportedAt).SetNillableDisposeDeadline(k.DisposeDeadline).SetNillableClosedAt(k.ClosedAt).
		SetVersion(k.Version).SetLastSeq(k.LastSeq).SetLastEventAt(k.LastEventAt).SetData(k.Data).
		OnConflictColumns(federatedcase.FieldTenantID, federatedcase.FieldSourceCode, federatedcase.FieldNumber).
		DoNothing().Exec(ctx)
	// PostgreSQL answers no row to RETURNING when it did nothing (a
	// concurrent insert of the same case won); that is no error here.
	if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
		return false, fmt.Errorf("insert federated case %s/%s: %w", k.SourceCode, k.Number, err)
	}
	return true, nil
}

func (s *store) ApplyIndicators(ctx context.Context, tenantID int, in []biz.Indicator) error {
	c := s.c(ctx)
	for _, x := range in {
		key := []predicate.FederatedIndicator{
			federatedindicator.TenantID(tenantID), federatedindicator.SourceCode(x.SourceCode),
			federatedindicator.Indicator(x.Name), federatedindicator.Period(x.Period),
		}
		n, err := c.FederatedIndicator.Update().Where(append(key, federatedindicator.AtLTE(x.At))...).
			SetValue(x.Value).SetAt(x.At).Save(ctx)
		if err != nil {
			return fmt.Errorf("update indicator %s/%s: %w", x.SourceCode, x.Name, err)
		}
		if n > 0 {
			continue
		}
		err = c.FederatedIndicator.Create().SetTenantID(tenantID).SetSourceCode(x.SourceCode).SetIndicator(x.Name).
			SetPeriod(x.Period).SetValue(x.Value).SetAt(x.At).
			OnConflictColumns(federatedindicator.FieldTenantID, federatedindicator.FieldSourceCode,
				federatedindicator.FieldIndicator, federatedindicator.FieldPeriod).
			DoNothing().Exec(ctx)
		if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
			return fmt.Errorf("insert indicator %s/%s: %w", x.SourceCode, x.Name, err)
		}
	}
	return nil
}

func rank(s biz.CommandStatus) int {
	switch s {
	case biz.StatusSent:
		return 0
	case biz.StatusReceived:
		return 1
	case biz.StatusAnswered, biz.StatusRejected:
		return 2
	}
	return -1
}

func (s *store) ApplyResponse(ctx context.Context, tenantID int, r *biz.Response) (bool, error) {
	c := s.c(ctx)
	row, err := c.FederationCommand.Query().Where(federationcommand.TenantID(tenantID),
		federationcommand.CommandID(r.CommandID), federationcommand.TargetCode(r.ResponderCode)).Only(ctx)
	if ent.IsNotFound(err) {
		return false, nil // another ancestor's command, or none
	}
	if err != nil {
		return false, fmt.Errorf("command %s: %w", r.CommandID, err)
	}
	from := biz.CommandStatus(row.Status)
	if rank(r.Status) <= rank(from) {
		return false, nil
	}
	u := c.FederationCommand.UpdateOneID(row.ID).Where(federationcommand.StatusEQ(row.Status)).
		SetStatus(federationcommand.Status(r.Status)).SetUpdatedAt(time.Now())
	if row.ReceivedAt == nil {
		u.SetReceivedAt(r.At)
	}
	if r.Status != biz.StatusReceived {
		u.SetAnsweredAt(r.At).SetResponse(r.Response)
	}
	if row.CaseNumber == "" && r.CaseNumber != "" {
		u.SetCaseNumber(r.CaseNumber)
	}
	if err := u.Exec(ctx); err != nil {
		if ent.IsNotFound(err) {
			return false, nil // moved on concurrently
		}
		return false, fmt.Errorf("command %s: %w", r.CommandID, err)
	}
	return true, nil
}

func (s *store) AddDeadLetter(ctx context.Context, d *biz.DeadLetter) error {
	err := s.c(ctx).DeadLetter.Create().SetTenantID(d.TenantID).SetConnector(d.Connector).
		SetDirection(deadletter.Direction(d.Direction)).SetEventID(d.EventID).SetEventType(d.EventType).
		SetSource(d.Source).SetReason(d.Reason).SetDetail(d.Detail).SetTopic(d.Topic).
		SetPartition(int32(d.Partition)).SetOffset(d.Offset).SetPayload(d.Payload).SetHeaders(d.Headers).
		SetCreatedAt(d.CreatedAt).Exec(ctx)
	if err != nil {
		return fmt.Errorf("add dead letter: %w", err)
	}
	return nil
}

func commandOf(r *ent.FederationCommand) *biz.Command {
	c := &biz.Command{
		ID: r.ID, TenantID: r.TenantID, CommandID: r.CommandID, TargetCode: r.TargetCode, Kind: biz.CommandKind(r.Kind),
		CaseNumber: r.CaseNumber, Reason: r.Reason, Deadline: utcp(r.Deadline), Status: biz.CommandStatus(r.Status),
		Response: r.Response, PublishedAt: utcp(r.PublishedAt), ReceivedAt: utcp(r.ReceivedAt),
		AnsweredAt: utcp(r.AnsweredAt), CreatedBy: r.CreatedBy, Payload: r.Payload,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.Edges.Tenant != nil {
		c.TenantCode = r.Edges.Tenant.Code
	}
	return c
}

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (s *store) CreateCommand(ctx context.Context, k *biz.Command) (*biz.Command, error) {
	row, err := s.c(ctx).FederationCommand.Create().SetTenantID(k.TenantID).SetCommandID(k.CommandID).
		SetTargetCode(k.TargetCode).SetKind(federationcommand.Kind(k.Kind)).SetCaseNumber(k.CaseNumber).
		SetReason(k.Reason).SetNillableDeadline(k.Deadline).SetStatus(federationcommand.Status(k.Status)).
		SetResponse(k.Response).SetNillablePublishedAt(k.PublishedAt).SetNillableReceivedAt(k.ReceivedAt).
		SetNillableAnsweredAt(k.AnsweredAt).SetCreatedBy(k.CreatedBy).SetPayload(k.Payload).
		SetCreatedAt(k.CreatedAt).SetUpdatedAt(k.UpdatedAt).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create command %s: %w", k.CommandID, err)
	}
	return commandOf(row), nil
}

func (s *store) GetCommand(ctx context.Context, id string) (*biz.Command, error) {
	row, err := s.c(ctx).FederationCommand.Query().Where(federationcommand.CommandID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, biz.CommandNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("command %s: %w", id, err)
	}
	return commandOf(row), nil
}

func (s *store) AnswerCommand(ctx context.Context, k *biz.Command, from biz.CommandStatus) error {
	err := s.c(ctx).FederationCommand.UpdateOneID(k.ID).Where(federationcommand.StatusEQ(federationcommand.Status(from))).
		SetStatus(federationcommand.Status(k.Status)).SetResponse(k.Response).SetNillableAnsweredAt(k.AnsweredAt).
		SetUpdatedAt(k.UpdatedAt).Exec(ctx)
	if ent.IsNotFound(err) {
		return biz.CommandNotFound(k.CommandID)
	}
	if err != nil {
		return fmt.Errorf("answer command %s: %w", k.CommandID, err)
	}
	return nil
}

func (s *store) ListCommands(ctx context.Context, q biz.CommandQuery) ([]*biz.Command, error) {
	query := s.c(ctx).FederationCommand.Query()
	if q.Targets != nil {
		query.Where(federationcommand.TargetCodeIn(q.Targets...))
	}
	if q.ExcludeTarget != "" {
		query.Where(federationcommand.TargetCodeNEQ(q.ExcludeTarget))
	}
	if q.Target != "" {
		query.Where(federationcommand.TargetCode(q.Target))
	}
	if len(q.Statuses) > 0 {
		st := make([]federationcommand.Status, len(q.Statuses))
		for i, x := range q.Statuses {
			st[i] = federationcommand.Status(x)
		}
		query.Where(federationcommand.StatusIn(st...))
	}
	if q.DeadlineBefore != nil {
		query.Where(federationcommand.DeadlineLT(*q.DeadlineBefore))
	}
	if q.CaseNumber != "" {
		query.Where(federationcommand.CaseNumber(q.CaseNumber))
	}
	if q.BeforeID > 0 {
		query.Where(federationcommand.IDLT(q.BeforeID))
	}
	if q.Limit > 0 {
		query.Limit(q.Limit)
	}
	rows, err := query.Order(federationcommand.ByID(entsql.OrderDesc())).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list commands: %w", err)
	}
	out := make([]*biz.Command, len(rows))
	for i, r := range rows {
		out[i] = commandOf(r)
	}
	return out, nil
}

// Unpublished is called as the system: the outbox serves every tenant.
func (s *store) Unpublished(ctx context.Context, limit int) ([]*biz.Command, error) {
	rows, err := s.c(ctx).FederationCommand.Query().
		Where(federationcommand.PublishedAtIsNil(), federationcommand.StatusEQ(federationcommand.StatusSent)).
		Order(federationcommand.ByID()).Limit(limit).WithTenant().All(ctx)
	if err != nil {
		return nil, fmt.Errorf("unpublished commands: %w", err)
	}
	out := make([]*biz.Command, len(rows))
	for i, r := range rows {
		out[i] = commandOf(r)
	}
	return out, nil
}

func (s *store) MarkPublished(ctx context.Context, ids []int, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.c(ctx).FederationCommand.Update().
		Where(federationcommand.IDIn(ids...), federationcommand.PublishedAtIsNil()).
		SetPublishedAt(at).Save(ctx)
	if err != nil {
		return fmt.Errorf("mark commands published: %w", err)
	}
	return nil
}

func caseOf(r *ent.FederatedCase) *biz.ChildCase {
	return &biz.ChildCase{
		ID: r.ID, TenantID: r.TenantID, SourceCode: r.SourceCode, Number: r.Number, State: caseflow.State(r.State),
		Source: caseflow.Source(r.Source), Kind: caseflow.Kind(r.Kind), ClassCode: r.ClassCode,
		NationalClassCode: r.NationalClassCode, Description: r.Description, Lon: r.Lon, Lat: r.Lat, Address: r.Address,
		GridCode: r.GridCode, StreetCode: r.StreetCode, DistrictCode: r.DistrictCode, AreaClass: r.AreaClass,
		Urgency: r.Urgency, PrimaryDepartmentCode: r.PrimaryDepartmentCode, Overdue: r.Overdue, Supervised: r.Supervised,
		ReportedAt: utcp(r.ReportedAt), DisposeDeadline: utcp(r.DisposeDeadline), ClosedAt: utcp(r.ClosedAt),
		Version: r.Version, LastSeq: r.LastSeq, LastEventAt: r.LastEventAt.UTC(), Data: r.Data,
	}
}

// closedStates are the states OpenOnly leaves out.
var closedStates = []string{
	string(caseflow.StateClosed), string(caseflow.StateVoided), string(caseflow.StateRejected), string(caseflow.StateMerged),
}

func (s *store) SearchCases(ctx context.Context, q biz.CaseQuery) ([]*biz.ChildCase, error) {
	query := s.c(ctx).FederatedCase.Query()
	if q.Sources != nil {
		query.Where(federatedcase.SourceCodeIn(q.Sources...))
	}
	if q.Number != "" {
		query.Where(federatedcase.Number(q.Number))
	}
	if len(q.States) > 0 {
		st := make([]string, len(q.States))
		for i, x := range q.States {
			st[i] = string(x)
		}
		query.Where(federatedcase.StateIn(st...))
	}
	for _, f := range []struct {
		v string
		p func(string) predicate.FederatedCase
	}{
		{q.ClassCode, federatedcase.ClassCode}, {string(q.Kind), federatedcase.Kind},
		{q.GridCode, federatedcase.GridCode}, {q.StreetCode, federatedcase.StreetCode},
		{q.DistrictCode, federatedcase.DistrictCode}, {string(q.Source), federatedcase.Source},
		{q.Urgency, federatedcase.Urgency},
	} {
		if f.v != "" {
			query.Where(f.p(f.v))
		}
	}
	if q.OverdueOnly {
		query.Where(federatedcase.Overdue(true))
	}
	if q.SupervisedOnly {
		query.Where(federatedcase.Supervised(true))
	}
	if q.OpenOnly {
		query.Where(federatedcase.StateNotIn(closedStates...))
	}
	if q.ReportedFrom != nil {
		query.Where(federatedcase.ReportedAtGTE(*q.ReportedFrom))
	}
	if q.ReportedTo != nil {
		query.Where(federatedcase.ReportedAtLT(*q.ReportedTo))
	}
	if a := q.After; a != nil {
		query.Where(federatedcase.Or(
			federatedcase.ReportedAtLT(a.ReportedAt),
			federatedcase.And(federatedcase.ReportedAtEQ(a.ReportedAt), federatedcase.IDLT(a.ID)),
		))
	}
	if q.Limit > 0 {
		query.Limit(q.Limit)
	}
	rows, err := query.Order(federatedcase.ByReportedAt(entsql.OrderDesc()), federatedcase.ByID(entsql.OrderDesc())).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("search federated cases: %w", err)
	}
	out := make([]*biz.ChildCase, len(rows))
	for i, r := range rows {
		out[i] = caseOf(r)
	}
	return out, nil
}

func (s *store) GetCase(ctx context.Context, source, number string) (*biz.ChildCase, error) {
	row, err := s.c(ctx).FederatedCase.Query().
		Where(federatedcase.SourceCode(source), federatedcase.Number(number)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, biz.ChildCaseNotFound(source, number)
	}
	if err != nil {
		return nil, fmt.Errorf("federated case %s/%s: %w", source, number, err)
	}
	return caseOf(row), nil
}

func (s *store) Timeline(ctx context.Context, source, subject string) ([]*biz.Event, error) {
	rows, err := s.c(ctx).FederatedEvent.Query().
		Where(federatedevent.SourceCode(source), federatedevent.Subject(subject)).
		Order(federatedevent.BySourceSeq(), federatedevent.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("federated timeline %s/%s: %w", source, subject, err)
	}
	out := make([]*biz.Event, len(rows))
	for i, r := range rows {
		out[i] = &biz.Event{
			TenantID: r.TenantID, EventID: r.EventID, SourceCode: r.SourceCode, SourceSeq: r.SourceSeq, Type: r.Type,
			Subject: r.Subject, Time: r.Time.UTC(), Data: r.Data, ReceivedAt: r.ReceivedAt.UTC(),
		}
	}
	return out, nil
}

func (s *store) Indicators(ctx context.Context, sources []string, period string) ([]*biz.Indicator, error) {
	q := s.c(ctx).FederatedIndicator.Query()
	if sources != nil {
		q.Where(federatedindicator.SourceCodeIn(sources...))
	}
	if period != "" {
		q.Where(federatedindicator.Period(period))
	}
	rows, err := q.Order(federatedindicator.BySourceCode(), federatedindicator.ByIndicator(), federatedindicator.ByPeriod()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("federated indicators: %w", err)
	}
	out := make([]*biz.Indicator, len(rows))
	for i, r := range rows {
		out[i] = &biz.Indicator{SourceCode: r.SourceCode, Name: r.Indicator, Period: r.Period, Value: r.Value, At: r.At.UTC()}
	}
	return out, nil
}

// FeedStats aggregates integers only (the newest row id and the highest
// sequence per sender) and then reads the newest rows: aggregates of time
// columns come back as text on SQLite.
func (s *store) FeedStats(ctx context.Context, sources []string) (map[string]*biz.FeedStat, error) {
	c := s.c(ctx)
	q := c.FederatedEvent.Query()
	if sources != nil {
		q.Where(federatedevent.SourceCodeIn(sources...))
	}
	var agg []struct {
		SourceCode string `json:"source_code"`
		LastID     int    `json:"last_id"`
		LastSeq    int64  `json:"last_seq"`
	}
	err := q.GroupBy(federatedevent.FieldSourceCode).
		Aggregate(ent.As(ent.Max(federatedevent.FieldID), "last_id"), ent.As(ent.Max(federatedevent.FieldSourceSeq), "last_seq")).
		Scan(ctx, &agg)
	if err != nil {
		return nil, fmt.Errorf("feed stats: %w", err)
	}
	out := make(map[string]*biz.FeedStat, len(agg))
	ids := make([]int, 0, len(agg))
	for _, a := range agg {
		out[a.SourceCode] = &biz.FeedStat{LastSeq: a.LastSeq}
		ids = append(ids, a.LastID)
	}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := c.FederatedEvent.Query().Where(federatedevent.IDIn(ids...)).
		Select(federatedevent.FieldSourceCode, federatedevent.FieldTime, federatedevent.FieldReceivedAt).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("feed stats: %w", err)
	}
	for _, r := range rows {
		if st := out[r.SourceCode]; st != nil {
			st.LastEventAt, st.LastReceivedAt = r.Time.UTC(), r.ReceivedAt.UTC()
		}
	}
	return out, nil
}

func (s *store) DeadLetterCounts(ctx context.Context) (map[string]int64, error) {
	var agg []struct {
		Source string `json:"source"`
		Count  int64  `json:"count"`
	}
	err := s.c(ctx).DeadLetter.Query().
		Where(deadletter.DirectionIn(deadletter.DirectionInbound, deadletter.DirectionCommandsIn), deadletter.ReplayedAtIsNil()).
		GroupBy(deadletter.FieldSource).Aggregate(ent.Count()).Scan(ctx, &agg)
	if err != nil {
		return nil, fmt.Errorf("dead letter counts: %w", err)
	}
	out := make(map[string]int64, len(agg))
	for _, a := range agg {
		out[a.Source] = a.Count
	}
	return out, nil
}

func (s *store) Connectors(ctx context.Context, directions []biz.Direction) ([]*biz.ConnectorState, error) {
	ds := make([]entconnector.Direction, len(directions))
	for i, d := range directions {
		ds[i] = entconnector.Direction(d)
	}
	rows, err := s.c(ctx).Connector.Query().Where(entconnector.DirectionIn(ds...)).Order(entconnector.ByName()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("connectors: %w", err)
	}
	out := make([]*biz.ConnectorState, len(rows))
	for i, r := range rows {
		out[i] = &biz.ConnectorState{
			Name: r.Name, Direction: string(r.Direction), Enabled: r.Enabled, LastEventAt: utcp(r.LastEventAt),
			LastSuccessAt: utcp(r.LastSuccessAt), LastError: r.LastError, Failures: r.Failures,
		}
	}
	return out, nil
}

type peerKeys struct{ client *ent.Client }

// NewPeerKeys returns the registered keys of remote tenants (system only).
func NewPeerKeys(client *ent.Client) biz.PeerKeys { return &peerKeys{client: client} }

func (p *peerKeys) PeerKeys(ctx context.Context, code string) ([]biz.PeerKey, error) {
	rows, err := database.ClientFromContext(ctx, p.client).PeerKey.Query().
		Where(peerkey.TenantCode(code), peerkey.RevokedAtIsNil()).Order(peerkey.ByVersion(entsql.OrderDesc())).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("peer keys of %s: %w", code, err)
	}
	out := make([]biz.PeerKey, len(rows))
	for i, r := range rows {
		out[i] = biz.PeerKey{Version: r.Version, Key: r.PublicKey}
	}
	return out, nil
}

type connectors struct{ client *ent.Client }

// NewConnectors returns the connector rows as the runner reads them
// (system only).
func NewConnectors(client *ent.Client) biz.Connectors { return &connectors{client: client} }

func (c *connectors) Enabled(ctx context.Context, directions []biz.Direction) ([]*biz.Connector, error) {
	ds := make([]entconnector.Direction, len(directions))
	for i, d := range directions {
		ds[i] = entconnector.Direction(d)
	}
	rows, err := database.ClientFromContext(ctx, c.client).Connector.Query().
		Where(entconnector.Enabled(true), entconnector.DirectionIn(ds...)).WithTenant().Order(entconnector.ByID()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("enabled connectors: %w", err)
	}
	out := make([]*biz.Connector, 0, len(rows))
	for _, r := range rows {
		if r.Edges.Tenant == nil {
			continue
		}
		out = append(out, &biz.Connector{
			ID: r.ID, TenantID: r.TenantID, TenantCode: r.Edges.Tenant.Code, TenantPath: r.Edges.Tenant.Path,
			Name: r.Name, Direction: biz.Direction(r.Direction), Brokers: r.Brokers, SourceCodes: r.SourceCodes,
			GroupID: r.GroupID, TLS: r.TLS, SASLMechanism: r.SaslMechanism, SASLSecretRef: r.SaslSecretRef,
			UpdatedAt: r.UpdatedAt,
		})
	}
	return out, nil
}

func (c *connectors) ReportHealth(ctx context.Context, id int, h biz.ConnectorHealth) error {
	u := database.ClientFromContext(ctx, c.client).Connector.UpdateOneID(id).
		SetLastError(h.LastError).SetFailures(h.Failures).
		SetNillableLastEventAt(h.LastEventAt).SetNillableLastSuccessAt(h.LastSuccessAt)
	if err := u.Exec(ctx); err != nil {
		return fmt.Errorf("connector %d health: %w", id, err)
	}
	return nil
}
