package component

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/cityops/cityops/app/pkg/geo"
)

// indexCache keeps one spatial index per tenant, built lazily on the first
// Nearby and rebuilt when the tenant's components change.
//
// How a change is noticed:
//
//   - writes through this process (imports, status updates) bump the
//     tenant's in-process revision, so the next Nearby rebuilds at once;
//   - writes by other replicas are noticed by polling, at most once per
//     PollInterval per tenant, a stamp of the table: the count of the
//     tenant's components (catches deletions) and their latest updated_at
//     (catches inserts and updates). Between polls another replica's change
//     may be missed for up to PollInterval; a hit on a deleted row is
//     dropped when the rows are read by id.
//
// The stamp is read before the points, so a write that lands while an
// index is being built makes the next poll rebuild it.
type indexCache struct {
	repo  Repo
	tx    Transaction
	poll  time.Duration
	now   func() time.Time
	mu    sync.Mutex
	revs  map[int]uint64
	items map[int]*indexItem
}

// indexItem is one tenant's index. mu serializes its builds, so a burst of
// Nearby calls after a change builds once; they wait for that build.
type indexItem struct {
	mu      sync.Mutex
	idx     *tenantIndex
	rev     uint64
	stamp   Stamp
	checked time.Time
}

func newIndexCache(repo Repo, tx Transaction, poll time.Duration, now func() time.Time) *indexCache {
	return &indexCache{repo: repo, tx: tx, poll: poll, now: now, revs: map[int]uint64{}, items: map[int]*indexItem{}}
}

// bump marks the tenant's components changed by this process.
func (c *indexCache) bump(tenantID int) {
	c.mu.Lock()
	c.revs[tenantID]++
	c.mu.Unlock()
}

// get returns the tenant's current index, building it when needed.
func (c *indexCache) get(ctx context.Context, tenantID int) (*tenantIndex, error) {
	c.mu.Lock()
	it, ok := c.items[tenantID]
	if !ok {
		it = &indexItem{}
		c.items[tenantID] = it
	}
	rev := c.revs[tenantID]
	c.mu.Unlock()

	it.mu.Lock()
	defer it.mu.Unlock()
	now := c.now()
	if it.idx != nil && it.rev == rev && now.Sub(it.checked) < c.poll {
		return it.idx, nil
	}
	stamp, err := c.stamp(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if it.idx != nil && it.rev == rev && stamp == it.stamp {
		it.checked = now
		return it.idx, nil
	}
	idx, err := c.build(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	it.idx, it.rev, it.stamp, it.checked = idx, rev, stamp, now
	return idx, nil
}

func (c *indexCache) stamp(ctx context.Context, tenantID int) (Stamp, error) {
	var s Stamp
	err := c.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		s, err = c.repo.Stamp(ctx, tenantID)
		return err
	})
	if err != nil {
		return Stamp{}, fmt.Errorf("component index: stamp: %w", err)
	}
	return s, nil
}

// build reads every point of the tenant (in one transaction, so the row-
// level security scope is set once) into a new index.
func (c *indexCache) build(ctx context.Context, tenantID int) (*tenantIndex, error) {
	b := newIndexBuilder()
	err := c.tx.InTx(ctx, func(ctx context.Context) error {
		for p, err := range c.repo.Points(ctx, tenantID) {
			if err != nil {
				return err
			}
			b.add(p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("component index: load: %w", err)
	}
	return b.build()
}

// IndexSizeBytes reports the memory of the tenant's built index, 0 when none
// (for the benchmark and metrics).
func (u *Usecase) IndexSizeBytes(tenantID int) int64 {
	u.index.mu.Lock()
	it := u.index.items[tenantID]
	u.index.mu.Unlock()
	if it == nil {
		return 0
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	if it.idx == nil {
		return 0
	}
	return it.idx.sizeBytes()
}

// classSet interns class codes: an index of a million points has a few
// hundred classes, so each point keeps a small number instead of a string.
type classSet struct {
	codes []string
	ids   map[string]uint16
}

func (s *classSet) id(code string) uint16 {
	if id, ok := s.ids[code]; ok {
		return id
	}
	id := uint16(len(s.codes))
	s.codes = append(s.codes, code)
	s.ids[code] = id
	return id
}

// filter returns the class numbers of codes, or nil for "all classes".
func (s *classSet) filter(codes []string) (map[uint16]bool, bool) {
	if len(codes) == 0 {
		return nil, true
	}
	m := make(map[uint16]bool, len(codes))
	for _, c := range slices.Compact(slices.Sorted(slices.Values(codes))) {
		if id, ok := s.ids[c]; ok {
			m[id] = true
		}
	}
	return m, len(m) > 0
}

// hit is one index result.
type hit struct {
	id        int
	distanceM float64
}

// tenantIndex is a built geo.PointIndex over one tenant's components. The
// index ids are positions in rowIDs/classes, so that the index stays at
// int32 ids whatever the database ids are.
type tenantIndex struct {
	points  *geo.PointIndex
	rowIDs  []int
	classes []uint16
	set     classSet
}

// indexBuilder collects points for a tenantIndex.
type indexBuilder struct {
	items []geo.PointItem
	ti    *tenantIndex
}

func newIndexBuilder() *indexBuilder {
	return &indexBuilder{ti: &tenantIndex{set: classSet{ids: map[string]uint16{}}}}
}

func (b *indexBuilder) add(p Point) {
	b.items = append(b.items, geo.PointItem{ID: int32(len(b.ti.rowIDs)), Lon: p.Lon, Lat: p.Lat})
	b.ti.rowIDs = append(b.ti.rowIDs, p.ID)
	b.ti.classes = append(b.ti.classes, b.ti.set.id(p.ClassCode))
}

func (b *indexBuilder) build() (*tenantIndex, error) {
	if len(b.items) >= math.MaxInt32 {
		return nil, fmt.Errorf("component index: %d points exceed the index's int32 ids", len(b.items))
	}
	ix, err := geo.NewPointIndex(b.items)
	if err != nil {
		return nil, fmt.Errorf("component index: %w", err)
	}
	b.ti.points = ix
	b.ti.rowIDs = slices.Clip(b.ti.rowIDs)
	b.ti.classes = slices.Clip(b.ti.classes)
	return b.ti, nil
}

// within runs the query; classCodes (when not empty) keeps only those
// classes.
func (ti *tenantIndex) within(lon, lat, radiusM float64, classCodes []string, limit int) []hit {
	want, any := ti.set.filter(classCodes)
	if !any {
		return nil // none of the asked classes exists here
	}
	var filter func(int32) bool
	if want != nil {
		filter = func(id int32) bool { return want[ti.classes[id]] }
	}
	hs := ti.points.Within(lon, lat, radiusM, filter, limit)
	out := make([]hit, len(hs))
	for i, h := range hs {
		out[i] = hit{id: ti.rowIDs[h.ID], distanceM: h.DistanceM}
	}
	return out
}

// sizeBytes is the memory the index holds.
func (ti *tenantIndex) sizeBytes() int64 {
	return int64(ti.points.SizeBytes()) + int64(cap(ti.rowIDs))*8 + int64(cap(ti.classes))*2
}
