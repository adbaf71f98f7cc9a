// Package component stores city components and their import jobs with ent,
// implementing the repositories the component use cases declare. Bulk
// writes bypass ent's per-row builders: on PostgreSQL one INSERT … SELECT
// FROM unnest(…) per batch (a plain insert while the rows are new, ON
// CONFLICT DO UPDATE once stored ones turn up), on SQLite multi-row
// upserts; both inside the caller's transaction, where row-level security
// is scoped once. On PostgreSQL the job repository also orders the
// overlapping transactions of an import's batches with advisory locks.
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
	"github.com/jackc/pgx/v5/pgconn"

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

func (r *repo) Upsert(ctx context.Context, tenantID int, rows []*biz.Component, likelyNew bool) (biz.UpsertResult, error) {
	if len(rows) == 0 {
		return biz.UpsertResult{}, nil
	}
	tx := database.TxFromContext(ctx)
	if tx == nil {
		return biz.UpsertResult{}, errNoTx
	}
	if r.db.Dialect == dialect.Postgres {
		return r.upsertPostgres(ctx, tx, tenantID, rows, likelyNew)
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

// columnArgs binds a batch for postgresInsertSelect: $1 the tenant, $2
// the time, then for each column of upsertColumns an array of its values
// ($3 … $24) and a scalar ($25 … $46). One array per column keeps the
// statement at 46 parameters whatever the batch size (parsed and planned
// once, far from the 65,535-parameter cap of multi-row VALUES). A column
// that has the same value in every row — an empty note, the file's one
// data source, the status of a census — is bound once, as its scalar next
// to an empty array: unnest pads the short array with NULL and coalesce
// takes the scalar. On a census file that halves the array elements the
// client encodes and the server decodes (server time −10%). obj_id, unique
// in a batch, always goes as an array, so unnest yields every row.
func columnArgs(tenantID int, now time.Time, rows []*biz.Component) []any {
	n := len(rows)
	arrays := make([]any, len(upsertColumns))
	scalars := make([]any, len(upsertColumns))
	for i, name := range upsertColumns {
		if name == "lon" || name == "lat" {
			col := make([]float64, n)
			for j, c := range rows {
				col[j] = c.Lon
				if name == "lat" {
					col[j] = c.Lat
				}
			}
			arrays[i] = col
			continue
		}
		get := textColumns[i]
		first, same := get(rows[0]), i > 0 // never obj_id
		for _, c := range rows[1:] {
			if !same {
				break
			}
			same = get(c) == first
		}
		if same {
			arrays[i], scalars[i] = []string{}, first
			continue
		}
		col := make([]string, n)
		for j, c := range rows {
			col[j] = get(c)
		}
		arrays[i] = col
	}
	args := make([]any, 0, 2*len(upsertColumns)+2)
	args = append(args, tenantID, now)
	args = append(args, arrays...)
	return append(args, scalars...)
}

// textColumns reads the text columns of upsertColumns (by their index;
// nil for lon and lat) from a component.
var textColumns = []func(c *biz.Component) string{
	func(c *biz.Component) string { return c.ObjID },
	func(c *biz.Component) string { return c.Scheme },
	func(c *biz.Component) string { return c.ClassCode },
	func(c *biz.Component) string { return c.Name },
	func(c *biz.Component) string { return c.MainDeptCode },
	func(c *biz.Component) string { return c.MainDeptName },
	func(c *biz.Component) string { return c.OwnerCode },
	func(c *biz.Component) string { return c.OwnerName },
	func(c *biz.Component) string { return c.MaintainerCode },
	func(c *biz.Component) string { return c.MaintainerName },
	func(c *biz.Component) string { return c.GridCode },
	func(c *biz.Component) string { return c.StreetCode },
	func(c *biz.Component) string { return c.CommunityCode },
	func(c *biz.Component) string { return string(c.Status) },
	func(c *biz.Component) string { return c.InitialDate },
	func(c *biz.Component) string { return c.ChangeDate },
	func(c *biz.Component) string { return c.DataSource },
	func(c *biz.Component) string { return c.Note },
	nil, // lon
	nil, // lat
	func(c *biz.Component) string { return c.Geometry },
	func(c *biz.Component) string { return c.RowHash },
}

// postgresInsertSelect is INSERT … SELECT FROM unnest of the arrays
// columnArgs binds, each column coalesced with its scalar.
var postgresInsertSelect = func() string {
	var b strings.Builder
	b.WriteString("INSERT INTO components (tenant_id, created_at, updated_at, " + strings.Join(upsertColumns, ", ") + ") SELECT $1::bigint, $2::timestamptz, $2::timestamptz")
	typ := func(c string) string {
		if c == "lon" || c == "lat" {
			return "float8"
		}
		return "text"
	}
	for i, c := range upsertColumns {
		fmt.Fprintf(&b, ", coalesce(u.%s, $%d::%s)", c, i+3+len(upsertColumns), typ(c))
	}
	b.WriteString(" FROM unnest(")
	for i, c := range upsertColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", i+3, typ(c))
	}
	b.WriteString(") AS u(" + strings.Join(upsertColumns, ", ") + ")")
	return b.String()
}()

// postgresInsert is the fast path of Upsert: a plain insert, which costs
// the server about a fifth less than the speculative insertion of ON
// CONFLICT (200k rows into components with all its indexes: 2.6 s against
// 3.2–3.7 s).
var postgresInsert = postgresInsertSelect

// postgresUpsert writes rows that may exist: (xmax = 0) tells an inserted
// row from an updated one; unchanged rows are not returned.
var postgresUpsert = postgresInsertSelect + conflictClause() + " RETURNING (xmax = 0)"

// savepointInsert scopes the fast path, so that its failure rolls back
// only itself and not the caller's transaction.
const savepointInsert = "component_insert"

// uniqueViolation is PostgreSQL's SQLSTATE unique_violation.
const uniqueViolation = "23505"

// upsertPostgres upserts rows with ON CONFLICT; when they are likely new
// it first tries them as a plain insert, and the first row that exists
// fails that insert with a unique violation (at once for a file imported
// before), after which the batch is upserted. It does not read the stored
// ids first: with the statistics of a table an import is filling, the
// planner answered `obj_id = ANY(…)` with a scan of all the tenant's
// rows, making each batch slower than the last (100k rows in batches of
// 1,000: 25 s), while ON CONFLICT and the unique check of a plain insert
// always probe the unique index.
func (r *repo) upsertPostgres(ctx context.Context, tx *ent.Tx, tenantID int, rows []*biz.Component, likelyNew bool) (biz.UpsertResult, error) {
	now := r.now().UTC()
	args := columnArgs(tenantID, now, rows)
	if !likelyNew {
		return upsertReturning(ctx, tx, args, len(rows))
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT "+savepointInsert); err != nil {
		return biz.UpsertResult{}, fmt.Errorf("component insert: %w", err)
	}
	_, err := tx.ExecContext(ctx, postgresInsert, args...)
	if err == nil {
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+savepointInsert); err != nil {
			return biz.UpsertResult{}, fmt.Errorf("component insert: %w", err)
		}
		return biz.UpsertResult{Inserted: len(rows)}, nil
	}
	if pe := (*pgconn.PgError)(nil); !errors.As(err, &pe) || pe.Code != uniqueViolation {
		return biz.UpsertResult{}, fmt.Errorf("component insert: %w", err)
	}
	if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+savepointInsert); rerr != nil {
		return biz.UpsertResult{}, fmt.Errorf("component insert: %w", errors.Join(err, rerr))
	}
	return upsertReturning(ctx, tx, args, len(rows))
}

// upsertReturning upserts the n rows of args and counts what happened to
// each.
func upsertReturning(ctx context.Context, tx *ent.Tx, args []any, n int) (biz.UpsertResult, error) {
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
	out.Unchanged = n - out.Inserted - out.Updated
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

// NewJobRepo returns the ent-backed import job repository; on PostgreSQL
// it is also a biz.BatchLocker, so imports write several batches at once.
func NewJobRepo(db *database.DB) biz.JobRepo {
	if db.Dialect == dialect.Postgres {
		return &pgJobRepo{jobRepo{db: db}}
	}
	return &jobRepo{db: db}
}

var (
	_ biz.JobRepo     = (*jobRepo)(nil)
	_ biz.BatchLocker = (*pgJobRepo)(nil)
)

// pgJobRepo locks batches with transaction-level advisory locks, keyed by
// (job id, batch) in the two-int4 key space. An id beyond 2³¹ wraps; a
// collision only makes two imports wait on each other a little.
type pgJobRepo struct{ jobRepo }

func (r *pgJobRepo) HoldBatch(ctx context.Context, jobID int, seq int64) error {
	return r.advisory(ctx, "SELECT pg_advisory_xact_lock($1::int4, $2::int4)", jobID, seq)
}

// AwaitBatch queues for the lock in shared mode: it returns once the
// holder's transaction ended, and blocks no one after.
func (r *pgJobRepo) AwaitBatch(ctx context.Context, jobID int, seq int64) error {
	return r.advisory(ctx, "SELECT pg_advisory_xact_lock_shared($1::int4, $2::int4)", jobID, seq)
}

func (r *pgJobRepo) advisory(ctx context.Context, query string, jobID int, seq int64) error {
	tx := database.TxFromContext(ctx)
	if tx == nil {
		return errors.New("import batch lock: must run inside InTx")
	}
	if _, err := tx.ExecContext(ctx, query, int32(jobID), int32(seq)); err != nil {
		return fmt.Errorf("import batch lock: %w", err)
	}
	return nil
}

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
