package caseflow

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	biz "github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/casefile"
	"github.com/cityops/cityops/ent/predicate"
)

func states(ss []biz.State) []casefile.State {
	out := make([]casefile.State, len(ss))
	for i, s := range ss {
		out[i] = casefile.State(s)
	}
	return out
}

func (r *repo) Near(ctx context.Context, q biz.NearQuery) ([]*biz.Case, error) {
	ps := []predicate.CaseFile{
		casefile.ClassCode(q.ClassCode), casefile.ReportedAtGTE(q.Since),
		casefile.LonGTE(q.MinLon), casefile.LonLTE(q.MaxLon), casefile.LatGTE(q.MinLat), casefile.LatLTE(q.MaxLat),
	}
	if len(q.States) > 0 {
		ps = append(ps, casefile.StateIn(states(q.States)...))
	}
	rows, err := r.c(ctx).CaseFile.Query().Where(ps...).Order(casefile.ByReportedAt(sql.OrderDesc())).Limit(q.Limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("cases near: %w", err)
	}
	return toBizAll(rows), nil
}

func toBizAll(rows []*ent.CaseFile) []*biz.Case {
	out := make([]*biz.Case, len(rows))
	for i, row := range rows {
		out[i] = toBiz(row)
	}
	return out
}

// filter turns a biz filter into predicates; the tenant comes from the
// viewer (privacy rules and row-level security).
func filter(f biz.Filter) []predicate.CaseFile {
	var ps []predicate.CaseFile
	add := func(v string, p func(string) predicate.CaseFile) {
		if v != "" {
			ps = append(ps, p(v))
		}
	}
	add(f.Number, casefile.Number)
	add(f.ClassCode, casefile.ClassCode)
	add(f.GridCode, casefile.GridCode)
	add(f.CommunityCode, casefile.CommunityCode)
	add(f.StreetCode, casefile.StreetCode)
	add(f.DistrictCode, casefile.DistrictCode)
	if len(f.States) > 0 {
		ps = append(ps, casefile.StateIn(states(f.States)...))
	}
	if f.OpenOnly {
		ps = append(ps, casefile.StateIn(states(biz.OpenStates())...))
	}
	if f.DepartmentCode != "" {
		code := f.DepartmentCode
		ps = append(ps, casefile.Or(
			casefile.PrimaryDepartmentCode(code),
			predicate.CaseFile(func(s *sql.Selector) {
				s.Where(sqljson.ValueContains(s.C(casefile.FieldCoDepartmentCodes), code))
			}),
		))
	}
	if f.Source != "" {
		ps = append(ps, casefile.SourceEQ(casefile.Source(f.Source)))
	}
	if f.Urgency != "" {
		ps = append(ps, casefile.UrgencyEQ(casefile.Urgency(f.Urgency)))
	}
	if f.OverdueOnly {
		ps = append(ps, casefile.Overdue(true))
	}
	if f.SupervisedOnly {
		ps = append(ps, casefile.Supervised(true))
	}
	if f.ReportedFrom != nil {
		ps = append(ps, casefile.ReportedAtGTE(*f.ReportedFrom))
	}
	if f.ReportedTo != nil {
		ps = append(ps, casefile.ReportedAtLT(*f.ReportedTo))
	}
	return ps
}

// orderColumn is the column a listing order runs on.
func orderColumn(o biz.Order) string {
	switch o {
	case biz.OrderVerifyDeadline:
		return casefile.FieldVerifyDeadline
	case biz.OrderDispatchDeadline:
		return casefile.FieldDispatchDeadline
	case biz.OrderDisposeDeadline:
		return casefile.FieldDisposeDeadline
	case biz.OrderCheckDeadline:
		return casefile.FieldCheckDeadline
	case biz.OrderCloseDeadline:
		return casefile.FieldCloseDeadline
	case biz.OrderUpdated:
		return casefile.FieldUpdatedAt
	default:
		return casefile.FieldReportedAt
	}
}

// Search reads one keyset page. The newest-first order runs down
// (reported_at, id); the others run up (column, id) with rows lacking the
// column last, so a cursor either continues among the dated rows (and then
// on to the undated ones) or among the undated ones by id.
func (r *repo) Search(ctx context.Context, q biz.Query, limit int) ([]*biz.Case, error) {
	col := orderColumn(q.Order)
	desc := q.Order == biz.OrderNewest || q.Order == ""
	query := r.c(ctx).CaseFile.Query().Where(filter(q.Filter)...)
	if a := q.After; a != nil {
		query = query.Where(func(s *sql.Selector) {
			c, id := s.C(col), s.C(casefile.FieldID)
			switch {
			case desc && a.Key != nil:
				s.Where(sql.Or(sql.LT(c, *a.Key), sql.And(sql.EQ(c, *a.Key), sql.LT(id, a.ID))))
			case desc:
				s.Where(sql.LT(id, a.ID))
			case a.Key != nil:
				s.Where(sql.Or(sql.GT(c, *a.Key), sql.And(sql.EQ(c, *a.Key), sql.GT(id, a.ID)), sql.IsNull(c)))
			default:
				s.Where(sql.And(sql.IsNull(c), sql.GT(id, a.ID)))
			}
		})
	}
	if desc {
		query = query.Order(ent.Desc(col), ent.Desc(casefile.FieldID))
	} else {
		query = query.Order(func(s *sql.Selector) {
			s.OrderExpr(sql.Expr(s.C(col) + " IS NULL"))
			s.OrderBy(s.C(col), s.C(casefile.FieldID))
		})
	}
	rows, err := query.Limit(limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("search cases: %w", err)
	}
	return toBizAll(rows), nil
}

func (r *repo) Count(ctx context.Context, f biz.Filter) (*biz.Counts, error) {
	var byState []struct {
		State string `json:"state"`
		Count int64  `json:"count"`
	}
	ps := filter(f)
	c := r.c(ctx)
	if err := c.CaseFile.Query().Where(ps...).GroupBy(casefile.FieldState).Aggregate(ent.Count()).Scan(ctx, &byState); err != nil {
		return nil, fmt.Errorf("count cases: %w", err)
	}
	out := &biz.Counts{ByState: map[biz.State]int64{}}
	for _, s := range byState {
		out.ByState[biz.State(s.State)] = s.Count
		out.Total += s.Count
	}
	if out.Total == 0 {
		return out, nil
	}
	n, err := c.CaseFile.Query().Where(append(ps, casefile.Overdue(true))...).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count overdue cases: %w", err)
	}
	out.Overdue = int64(n)
	n, err = c.CaseFile.Query().Where(append(ps, casefile.Supervised(true))...).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("count supervised cases: %w", err)
	}
	out.Supervised = int64(n)
	return out, nil
}
