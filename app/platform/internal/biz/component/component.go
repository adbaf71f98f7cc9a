// Package component decides the rules of the city component census (部件普查):
// what a valid component id is for a tenant (GB/T 47678.5-2026 17-digit and
// legacy CJ/T 214 16-digit 标识码, region and class parts), how a census file
// (CSV as cities export it, or GeoJSON) is imported — streaming, resumable,
// idempotent, rejecting bad rows without stopping the good ones — and how
// components are queried, exported and found near a point.
package component

import (
	"context"
	"iter"
	"time"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Scheme names the standard an id follows; the same strings name taxonomy
// schemes.
const (
	Scheme2026   = "GB/T 47678.5-2026"
	SchemeLegacy = "CJ/T 214-2007"
)

// Status is a component's state (管理部件状态).
type Status string

// Component statuses, stored in English; files may use the Chinese words.
const (
	StatusGood      Status = "good"      // 完好
	StatusDamaged   Status = "damaged"   // 破损
	StatusLost      Status = "lost"      // 丢失
	StatusAbandoned Status = "abandoned" // 废弃
	StatusRemoved   Status = "removed"   // 移除
)

// Component is one city component with the attributes of GB/T 47678.5
// table 2; legacy files map onto the same fields (DeptCode1..3 are the
// main, owner and maintainer units, BGID the grid, ObjState the status).
type Component struct {
	ID             int
	ObjID          string
	Scheme         string
	ClassCode      string
	Name           string
	MainDeptCode   string
	MainDeptName   string
	OwnerCode      string
	OwnerName      string
	MaintainerCode string
	MaintainerName string
	GridCode       string
	StreetCode     string
	CommunityCode  string
	Status         Status
	InitialDate    string // YYYYMMDD
	ChangeDate     string // YYYYMMDD or ""
	DataSource     string
	Note           string
	Lon, Lat       float64 // WGS84
	Geometry       string  // GeoJSON geometry of a line or polygon, "" for points
	RowHash        string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Filter selects components; zero fields match everything.
type Filter struct {
	ClassCode string
	GridCode  string
	OwnerCode string
	Status    Status
	// BBox, when set, bounds lon/lat (inclusive) on the indexed columns.
	BBox *BBox
	// IDs restricts to these row ids (Nearby's second step).
	IDs []int
}

// BBox is a lon/lat range.
type BBox struct{ MinLon, MinLat, MaxLon, MaxLat float64 }

// Page is a keyset page request: rows after AfterObjID, ordered by obj_id.
type Page struct {
	AfterObjID string
	Limit      int
}

// Point is what the spatial index keeps of a component.
type Point struct {
	ID        int
	ClassCode string
	Lon, Lat  float64
}

// Stamp summarizes a tenant's components so that a replica can tell that
// another replica changed them: the count (catches deletes) and the latest
// updated_at (catches inserts and updates).
type Stamp struct {
	Count     int
	UpdatedAt time.Time
}

// UpsertResult counts what one batch did.
type UpsertResult struct {
	Inserted, Updated, Unchanged int
}

// Repo stores the components of the acting tenant. Implementations
// translate "not found" into COMPONENT_NOT_FOUND.
type Repo interface {
	Get(ctx context.Context, tenantID int, objID string) (*Component, error)
	// List returns up to p.Limit components matching f, ordered by obj_id.
	List(ctx context.Context, tenantID int, f Filter, p Page) ([]*Component, error)
	// Each yields every component matching f ordered by obj_id, reading
	// page by page so that memory stays constant.
	Each(ctx context.Context, tenantID int, f Filter) iter.Seq2[*Component, error]
	// Points yields (id, class, lon, lat) of every component, page by page.
	Points(ctx context.Context, tenantID int) iter.Seq2[Point, error]
	Stamp(ctx context.Context, tenantID int) (Stamp, error)
	UpdateStatus(ctx context.Context, tenantID int, objID string, s Status, changeDate, note string) (*Component, error)
	// Upsert writes a batch in the caller's transaction: new obj_ids are
	// inserted, rows whose RowHash differs are updated, the rest untouched.
	// obj_ids are unique within the batch. likelyNew says the rows are
	// probably all new (the import's previous batch was): the repository
	// may then try a cheaper plain insert first. It changes nothing but
	// the speed.
	Upsert(ctx context.Context, tenantID int, rows []*Component, likelyNew bool) (UpsertResult, error)
}

// JobStatus is the state of an import job.
type JobStatus string

// Import job states.
const (
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
	JobFailed  JobStatus = "failed"
)

// Job is an import of one file, keyed by its SHA-256.
type Job struct {
	ID                                     int
	Source                                 string
	Checksum                               string
	Position                               int64
	Inserted, Updated, Unchanged, Rejected int64
	Status                                 JobStatus
}

// JobRepo stores component import jobs of the acting tenant.
type JobRepo interface {
	// Latest returns the newest component import job of the file with
	// this checksum, or nil.
	Latest(ctx context.Context, tenantID int, checksum string) (*Job, error)
	Create(ctx context.Context, tenantID int, j *Job) (*Job, error)
	// Save stores the position, counters and status of j.
	Save(ctx context.Context, j *Job) error
}

// BatchLocker lets the transactions of an import's batches overlap and
// still commit in file order (see batchWriter). A job repository that
// implements it gets several writers; one that does not (SQLite, whose
// single writer lock would deadlock them) gets one.
type BatchLocker interface {
	// HoldBatch takes the lock of batch seq of the job in the caller's
	// transaction, until that transaction ends.
	HoldBatch(ctx context.Context, jobID int, seq int64) error
	// AwaitBatch waits, in the caller's transaction, until no other
	// transaction holds the lock of batch seq of the job.
	AwaitBatch(ctx context.Context, jobID int, seq int64) error
}

// ClassChecker answers whether the tenant's taxonomy has a class; the
// taxonomy use cases implement it (kind "component" here).
type ClassChecker interface {
	ClassExists(ctx context.Context, tenantID int, kind, code string) (bool, error)
}

// ClassCheckerFunc adapts a function to ClassChecker.
type ClassCheckerFunc func(ctx context.Context, tenantID int, kind, code string) (bool, error)

// ClassExists implements ClassChecker.
func (f ClassCheckerFunc) ClassExists(ctx context.Context, tenantID int, kind, code string) (bool, error) {
	return f(ctx, tenantID, kind, code)
}

// GridChecker answers whether a unit grid (单元网格) exists in the tenant;
// the grid use cases implement it. Optional: without one, grid codes are
// only checked for shape.
type GridChecker interface {
	GridExists(ctx context.Context, tenantID int, code string) (bool, error)
}

// GridCheckerFunc adapts a function to GridChecker.
type GridCheckerFunc func(ctx context.Context, tenantID int, code string) (bool, error)

// GridExists implements GridChecker.
func (f GridCheckerFunc) GridExists(ctx context.Context, tenantID int, code string) (bool, error) {
	return f(ctx, tenantID, code)
}

// TenantScoper resolves the tenant of a tenant-scoped call (the tenant use
// case implements it) and answers TENANT_NOT_FOUND or TENANT_SUSPENDED.
type TenantScoper interface {
	Scope(ctx context.Context, code string) (*tenant.Tenant, error)
}

// Transaction runs fn in one database transaction carried by the context.
type Transaction interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// NotFound is COMPONENT_NOT_FOUND for objID.
func NotFound(objID string) error {
	return registryv1.ErrorComponentNotFound("component %s not found", objID).WithMetadata(map[string]string{"obj_id": objID})
}

// CodeInvalid is CODE_INVALID about one field with a bilingual detail.
func CodeInvalid(field, code, zh, en string) error {
	return registryv1.ErrorCodeInvalid("%s %s: %s", field, code, en).WithMetadata(map[string]string{
		"field": field, "code": code, "detail": en, "detail_zh": zh, "detail_en": en,
	})
}

// ImportRejected is IMPORT_REJECTED with a bilingual detail.
func ImportRejected(zh, en string) error {
	return registryv1.ErrorImportRejected("%s", en).WithMetadata(map[string]string{
		"detail": en, "detail_zh": zh, "detail_en": en,
	})
}

// ClassNotFound is CLASS_NOT_FOUND for a component class.
func ClassNotFound(code string) error {
	return registryv1.ErrorClassNotFound("component class %s not found", code).WithMetadata(map[string]string{"kind": "component", "code": code})
}
