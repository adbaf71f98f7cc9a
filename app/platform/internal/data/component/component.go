// Package component stores city components and their import jobs with ent,
// implementing the repositories the component use cases declare. Bulk
// writes bypass ent's per-row builders: on PostgreSQL one INSERT … SELECT
// FROM unnest(…) ON CONFLICT DO UPDATE per batch, on SQLite multi-row
// upserts; both inside the caller's transaction, where row-level security
// is scoped once.
package component

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/cityops/cityops/app/pkg/database"
	biz "github.com/cityops/cityops/app/platform/internal/biz/component"
	"github.com/cityops/cityops/ent"
	entcomponent "github.com/cityops/cityops/ent/component"
	"github.com/cityops/cityops/ent/importjob"
	"github.com/cityops/cityops/ent/taxonomyclass"
)

type repo struct {
	db  *database.DB
	now func() time.Time
}

// NewRepo returns the ent-backed component repository. Inside a
// transaction started by db.InTx it uses that transaction.
func NewRepo(db *database.DB) biz.Repo { return &repo{db: db, now: time.Now} }

var _ biz.Repo = (*repo)(nil)

func toBiz(c *ent.Component) *biz.Component {
	return &biz.Component{
		ID: c.ID, ObjID: c.ObjID, Scheme: c.Scheme, ClassCode: c.ClassCode, Name: c.Name,
		MainDeptCode: c.MainDeptCode, MainDeptName: c.MainDeptName, OwnerCode: c.OwnerCode, OwnerName: c.OwnerName,
		MaintainerCode: c.MaintainerCode, MaintainerName: c.MaintainerName, GridCode: c.GridCode,
		StreetCode: c.StreetCode, CommunityCode: c.CommunityCode, Status: biz.Status(c.Status),
		InitialDate: c.InitialDate, ChangeDate: c.ChangeDate, DataSource: c.DataSource, Note: c.Note,
		Lon: c.Lon, Lat: c.Lat, Geometry: c.Geometry, RowHash: c.RowHash,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func (r *repo) Get(ctx context.Context, tenantID int, objID string) (*biz.Component, error) {
	c, err := r.db.Client(ctx).Component.Query().
		Where(entcomponent.TenantID(tenantID), entcomponent.ObjID(objID)).Only(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.NotFound(objID)
		}
		return nil, fmt.Errorf("get component: %w", err)
	}
	return toBiz(c), nil
}

func (r *repo) query(ctx context.Context, tenantID int, f biz.Filter) *ent.ComponentQuery {
	q := r.db.Client(ctx).Component.Query().Where(entcomponent.TenantID(tenantID))
	if f.ClassCode != "" {
		q.Where(entcomponent.ClassCode(f.ClassCode))
	}
	if f.GridCode != "" {
		q.Where(entcomponent.GridCode(f.GridCode))
	}
	if f.OwnerCode != "" {
		q.Where(entcomponent.OwnerCode(f.OwnerCode))
	}
	if f.Status != "" {
		q.Where(entcomponent.StatusEQ(entcomponent.Status(f.Status)))
	}
	if b := f.BBox; b != nil {
		q.Where(entcomponent.LonGTE(b.MinLon), entcomponent.LonLTE(b.MaxLon),
			entcomponent.LatGTE(b.MinLat), entcomponent.LatLTE(b.MaxLat))
	}
	if len(f.IDs) > 0 {
		q.Where(entcomponent.IDIn(f.IDs...))
	}
	return q
}

func (r *repo) List(ctx context.Context, tenantID int, f biz.Filter, p biz.Page) ([]*biz.Component, error) {
	q := r.query(ctx, tenantID, f)
	if p.AfterObjID != "" {
		q.Where(entcomponent.ObjIDGT(p.AfterObjID))
	}
	rows, err := q.Order(entcomponent.ByObjID()).Limit(p.Limit).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("list components: %w", err)
	}
	out := make([]*biz.Component, 0, len(rows))
	for _, c := range rows {
		out = append(out, toBiz(c))
	}
	return out, nil
}

// eachPage is the page size of Each and Points: large enough that the
// round trips do not dominate, small enough to keep memory flat.
const (
	eachPage  = 1000
	pointPage = 20000
)

func (r *repo) Each(ctx context.Context, tenantID int, f biz.Filter) iter.Seq2[*biz.Component, error] {
	return func(yield func(*biz.Component, error) bool) {
		after := ""
		for {
			rows, err := r.List(ctx, tenantID, f, biz.Page{AfterObjID: after, Limit: eachPage})
			if err != nil {
				yield(nil, err)
				return
			}
			for _, c := range rows {
				if !yield(c, nil) {
					return
				}
			}
			if len(rows) < eachPage {
				return
			}
			after = rows[len(rows)-1].ObjID
		}
	}
}

func (r *repo) Points(ctx context.Context, tenantID int) iter.Seq2[biz.Point, error] {
	return func(yield func(biz.Point, error) bool) {
		after := 0
		for {
			var page []struct {
				ID        int     `json:"id"`
				ClassCode string  `json:"class_code"`
				Lon       float64 `json:"lon"`
				Lat       float64 `json:"lat"`
			}
			err := r.db.Client(ctx).Component.Query().
				Where(entcomponent.TenantID(tenantID), entcomponent.IDGT(after)).
				Order(entcomponent.ByID()).Limit(pointPage).
				Select(entcomponent.FieldID, entcomponent.FieldClassCode, entcomponent.FieldLon, entcomponent.FieldLat).
				Scan(ctx, &page)
			if err != nil {
				yield(biz.Point{}, fmt.Errorf("component points: %w", err))
				return
			}
			for _, p := range page {
				if !yield(biz.Point{ID: p.ID, ClassCode: p.ClassCode, Lon: p.Lon, Lat: p.Lat}, nil) {
					return
				}
			}
			if len(page) < pointPage {
				return
			}
			after = page[len(page)-1].ID
		}
	}
}

func (r *repo) Stamp(ctx context.Context, tenantID int) (biz.Stamp, error) {
	c := r.db.Client(ctx).Component
	n, err := c.Query().Where(entcomponent.TenantID(tenantID)).Count(ctx)
	if err != nil {
		return biz.Stamp{}, fmt.Errorf("component stamp: %w", err)
	}
	if n == 0 {
		return biz.Stamp{}, nil
	}
	last, err := c.Query().Where(entcomponent.TenantID(tenantID)).
		Order(entcomponent.ByUpdatedAt(entsql.OrderDesc())).
		Select(entcomponent.FieldUpdatedAt).First(ctx)
	if err != nil {
		return biz.Stamp{}, fmt.Errorf("component stamp: %w", err)
	}
	return biz.Stamp{Count: n, UpdatedAt: last.UpdatedAt.UTC()}, nil
}

func (r *repo) UpdateStatus(ctx context.Context, tenantID int, objID string, s biz.Status, changeDate, note string) (*biz.Component, error) {
	cur, err := r.Get(ctx, tenantID, objID)
	if err != nil {
		return nil, err
	}
	cur.Status, cur.ChangeDate = s, changeDate
	if note != "" {
		cur.Note = note
	}
	// row_hash stays the hash of the imported row: re-importing the same
	// census file then leaves this field update alone, while a file whose
	// row changed overwrites it.
	c, err := r.db.Client(ctx).Component.UpdateOneID(cur.ID).
		SetStatus(entcomponent.Status(s)).SetChangeDate(changeDate).SetNote(cur.Note).
		Save(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, biz.NotFound(objID)
		}
		return nil, fmt.Errorf("update component status: %w", err)
	}
	return toBiz(c), nil
}

// errNoTx is returned by Upsert outside a transaction: its raw statements
// need the transaction that carries the row-level security scope.
var errNoTx = errors.New("component upsert: must run inside InTx")

func (r *repo) Upsert(ctx context.Context, tenantID int, rows []*biz.Component) (biz.UpsertResult, error) {
	if len(rows) == 0 {
		return biz.UpsertResult{}, nil
	}
	tx := database.TxFromContext(ctx)
	if tx == nil {
		return biz.UpsertResult{}, errNoTx
	}
	if r.db.Dialect == dialect.Postgres {
		return r.upsertPostgres(ctx, tx, tenantID, rows)
	}
	return r.upsertSQLite(ctx, tx, tenantID, rows)
}

// upsertColumns are written by Upsert, in this order; the update of a
// changed row sets all of them but obj_id (the conflict key).
var upsertColumns = []string{
	"obj_id", "scheme", "class_code", "name", "main_dept_code", "main_dept_name", "owner_code", "owner_name",
	"maintainer_code", "maintainer_name", "grid_code", "street_code", "community_code", "status",
	"initial_date", "change_date", "data_source", "note", "lon", "lat", "geometry", "row_hash",
}

func rowValues(c *biz.Component) []any {
	return []any{
		c.ObjID, c.Scheme, c.ClassCode, c.Name, c.MainDeptCode, c.MainDeptName, c.OwnerCode, c.OwnerName,
		c.MaintainerCode, c.MaintainerName, c.GridCode, c.StreetCode, c.CommunityCode, string(c.Status),
		c.InitialDate, c.ChangeDate, c.DataSource, c.Note, c.Lon, c.Lat, c.Geometry, c.RowHash,
	}
}

func conflictClause() string {
	var b strings.Builder
	b.WriteString(" ON CONFLICT (tenant_id, obj_id) DO UPDATE SET updated_at = excluded.updated_at")
	for _, c := range upsertColumns[1:] {
		b.WriteString(", " + c + " = excluded." + c)
	}
	b.WriteString(" WHERE components.row_hash <> excluded.row_hash")
	return b.String()
}

// postgresUpsert sends a whole batch as one array per column: one statement
// with 24 parameters whatever the batch size, parsed and planned once, and
// (xmax = 0) tells an inserted row from an updated one; unchanged rows are
// not returned. It avoids multi-row VALUES' 65,535-parameter cap and
// per-batch statement text, which change with every batch size
// (BenchmarkImportComponents compares it with COPY).
var postgresUpsert = func() string {
	var b strings.Builder
	b.WriteString("INSERT INTO components (tenant_id, created_at, updated_at, " + strings.Join(upsertColumns, ", ") + ") SELECT $1::bigint, $2::timestamptz, $2::timestamptz, u.* FROM unnest(")
	for i, c := range upsertColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		typ := "text[]"
		if c == "lon" || c == "lat" {
			typ = "float8[]"
		}
		fmt.Fprintf(&b, "$%d::%s", i+3, typ)
	}
	b.WriteString(") AS u")
	b.WriteString(conflictClause())
	b.WriteString(" RETURNING (xmax = 0)")
	return b.String()
}()

func (r *repo) upsertPostgres(ctx context.Context, tx *ent.Tx, tenantID int, rows []*biz.Component) (biz.UpsertResult, error) {
	cols := make([][]string, len(upsertColumns))
	lon := make([]float64, len(rows))
	lat := make([]float64, len(rows))
	for i := range cols {
		cols[i] = make([]string, len(rows))
	}
	for j, c := range rows {
		for i, v := range rowValues(c) {
			switch v := v.(type) {
			case string:
				cols[i][j] = v
			case float64:
				if upsertColumns[i] == "lon" {
					lon[j] = v
				} else {
					lat[j] = v
				}
			}
		}
	}
	args := []any{tenantID, r.now().UTC()}
	for i, c := range upsertColumns {
		switch c {
		case "lon":
			args = append(args, lon)
		case "lat":
			args = append(args, lat)
		default:
			args = append(args, cols[i])
		}
	}
	res, err := tx.QueryContext(ctx, postgresUpsert, args...)
	if err != nil {
		return biz.UpsertResult{}, fmt.Errorf("component upsert: %w", err)
	}
	defer res.Close()
	out := biz.UpsertResult{}
	for res.Next() {
		var inserted bool
		if err := res.Scan(&inserted); err != nil {
			return biz.UpsertResult{}, fmt.Errorf("component upsert: %w", err)
		}
		if inserted {
			out.Inserted++
		} else {
			out.Updated++
		}
	}
	if err := res.Err(); err != nil {
		return biz.UpsertResult{}, fmt.Errorf("component upsert: %w", err)
	}
	out.Unchanged = len(rows) - out.Inserted - out.Updated
	return out, nil
}

// sqliteChunk keeps a multi-row statement under SQLite's bound-variable
// limit (32766): 24 values a row.
const sqliteChunk = 500

// upsertSQLite reads the stored hashes of the batch first (SQLite has no
// xmax to tell inserts from updates), then upserts only new and changed
// rows, several hundred per statement.
func (r *repo) upsertSQLite(ctx context.Context, tx *ent.Tx, tenantID int, rows []*biz.Component) (biz.UpsertResult, error) {
	stored := make(map[string]string, len(rows))
	for chunk := range slicesChunk(rows, sqliteChunk) {
		q := "SELECT obj_id, row_hash FROM components WHERE tenant_id = ? AND obj_id IN (?" + strings.Repeat(", ?", len(chunk)-1) + ")"
		args := make([]any, 0, len(chunk)+1)
		args = append(args, tenantID)
		for _, c := range chunk {
			args = append(args, c.ObjID)
		}
		res, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return biz.UpsertResult{}, fmt.Errorf("component upsert: %w", err)
		}
		for res.Next() {
			var id, h string
			if err := res.Scan(&id, &h); err != nil {
				_ = res.Close()
				return biz.UpsertResult{}, fmt.Errorf("component upsert: %w", err)
			}
			stored[id] = h
		}
		if err := errors.Join(res.Err(), res.Close()); err != nil {
			return biz.UpsertResult{}, fmt.Errorf("component upsert: %w", err)
		}
	}
	out := biz.UpsertResult{}
	write := make([]*biz.Component, 0, len(rows))
	for _, c := range rows {
		h, ok := stored[c.ObjID]
		switch {
		case !ok:
			out.Inserted++
		case h != c.RowHash:
			out.Updated++
		default:
			out.Unchanged++
			continue
		}
		write = append(write, c)
	}
	now := r.now().UTC()
	row := "(?, ?, ?" + strings.Repeat(", ?", len(upsertColumns)) + ")"
	for chunk := range slicesChunk(write, sqliteChunk) {
		var b strings.Builder
		b.WriteString("INSERT INTO components (tenant_id, created_at, updated_at, " + strings.Join(upsertColumns, ", ") + ") VALUES ")
		args := make([]any, 0, len(chunk)*(len(upsertColumns)+3))
		for i, c := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
			args = append(args, tenantID, now, now)
			args = append(args, rowValues(c)...)
		}
		b.WriteString(conflictClause())
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return biz.UpsertResult{}, fmt.Errorf("component upsert: %w", err)
		}
	}
	return out, nil
}

// slicesChunk is slices.Chunk without its panic on an empty slice's n.
func slicesChunk[T any](s []T, n int) iter.Seq[[]T] {
	return func(yield func([]T) bool) {
		for i := 0; i < len(s); i += n {
			if !yield(s[i:min(i+n, len(s))]) {
				return
			}
		}
	}
}

type jobRepo struct{ db *database.DB }

// NewJobRepo returns the ent-backed import job repository.
func NewJobRepo(db *database.DB) biz.JobRepo { return &jobRepo{db: db} }

var _ biz.JobRepo = (*jobRepo)(nil)

func jobToBiz(j *ent.ImportJob) *biz.Job {
	return &biz.Job{
		ID: j.ID, Source: j.Source, Checksum: j.Checksum, Position: j.Position,
		Inserted: j.Inserted, Updated: j.Updated, Unchanged: j.Unchanged, Rejected: j.Rejected,
		Status: biz.JobStatus(j.Status),
	}
}

func (r *jobRepo) Latest(ctx context.Context, tenantID int, checksum string) (*biz.Job, error) {
	j, err := r.db.Client(ctx).ImportJob.Query().
		Where(importjob.TenantID(tenantID), importjob.KindEQ(importjob.KindComponents), importjob.Checksum(checksum)).
		Order(importjob.ByID(entsql.OrderDesc())).First(ctx)
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("import job: %w", err)
	}
	return jobToBiz(j), nil
}

func (r *jobRepo) Create(ctx context.Context, tenantID int, j *biz.Job) (*biz.Job, error) {
	row, err := r.db.Client(ctx).ImportJob.Create().SetTenantID(tenantID).SetKind(importjob.KindComponents).
		SetSource(j.Source).SetChecksum(j.Checksum).SetStatus(importjob.Status(j.Status)).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create import job: %w", err)
	}
	return jobToBiz(row), nil
}

func (r *jobRepo) Save(ctx context.Context, j *biz.Job) error {
	err := r.db.Client(ctx).ImportJob.UpdateOneID(j.ID).SetPosition(j.Position).
		SetInserted(j.Inserted).SetUpdated(j.Updated).SetUnchanged(j.Unchanged).SetRejected(j.Rejected).
		SetStatus(importjob.Status(j.Status)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("save import job: %w", err)
	}
	return nil
}

type taxonomyClasses struct{ db *database.DB }

// NewClassChecker answers biz.ClassChecker from the tenant's active
// taxonomy classes. It stands in until the taxonomy use cases are wired
// (they may implement the interface themselves).
func NewClassChecker(db *database.DB) biz.ClassChecker { return &taxonomyClasses{db: db} }

func (c *taxonomyClasses) ClassExists(ctx context.Context, tenantID int, kind, code string) (bool, error) {
	ok, err := c.db.Client(ctx).TaxonomyClass.Query().Where(
		taxonomyclass.TenantID(tenantID), taxonomyclass.KindEQ(taxonomyclass.Kind(kind)),
		taxonomyclass.Code(code), taxonomyclass.Active(true),
	).Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("class exists: %w", err)
	}
	return ok, nil
}
