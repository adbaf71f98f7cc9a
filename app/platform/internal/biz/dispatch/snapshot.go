package dispatch

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cityops/cityops/app/pkg/viewer"
)

// Defaults of the snapshot settings of Config.
const (
	DefaultRefreshInterval = 10 * time.Second
	DefaultMaxSnapshotRows = 20000
)

// reads are what a decision reads: a tenant's snapshot in memory, or
// storage.
type reads interface {
	autoOn(ctx context.Context, tenantID int, classCode string) (bool, error)
	// candidates returns a superset of the enabled rules matching s
	// (normalized); the engine checks each one.
	candidates(ctx context.Context, tenantID int, s *Subject) ([]*Rule, error)
	// active returns a set holding those of codes that are active
	// departments (and perhaps others).
	active(ctx context.Context, tenantID int, codes []string) (map[string]bool, error)
	// describe is r.describe(), which a snapshot has at hand.
	describe(r *Rule) string
}

// storage reads through the repositories, a few queries per decision.
type storage struct{ u *Usecase }

func (st storage) autoOn(ctx context.Context, tenantID int, classCode string) (bool, error) {
	return st.u.repo.AutoOn(ctx, tenantID, classCode)
}

func (st storage) candidates(ctx context.Context, tenantID int, s *Subject) ([]*Rule, error) {
	return st.u.repo.Candidates(ctx, tenantID, *s)
}

func (st storage) active(ctx context.Context, tenantID int, codes []string) (map[string]bool, error) {
	return st.u.deps.Active(ctx, tenantID, uniq(codes))
}

func (storage) describe(r *Rule) string { return r.describe() }

// regionKey is the region a rule covers; code is "" for LevelAny.
type regionKey struct {
	level RegionLevel
	code  string
}

// snapshot is what one tenant's decisions read, held in memory: its
// enabled rules indexed by class code and region, the classes switched to
// auto and the codes of its active departments. It is immutable once
// published, and its rules are shared by concurrent decisions, which must
// not modify them.
type snapshot struct {
	// gen is the generation of the tenant's entry it was loaded under;
	// a write through the use case moves the entry on, and the snapshot
	// is reloaded.
	gen uint64
	// stamp is Repo.Stamp and Departments.Stamp as read before the load.
	stamp string
	// checked is when stamp was last read (taken before the read) and
	// found to describe the snapshot.
	checked time.Time
	// oversize marks a tenant with more rows than Config.MaxSnapshotRows:
	// the snapshot holds no data and decisions read storage.
	oversize bool
	// byClass are the enabled rules by class code ("" for every class) and
	// region: a decision looks up its class prefixes × its five regions
	// instead of scanning every rule.
	byClass map[string]map[regionKey][]*Rule
	// autoClasses are the classes switched to auto.
	autoClasses map[string]bool
	// departments are the codes of the active departments.
	departments map[string]bool
	// descriptions are the rules' describe(), half the cost of a
	// decision were it written anew each time.
	descriptions map[*Rule]string
}

// current reports whether s can serve a decision at now in an entry of
// generation gen.
func (s *snapshot) current(gen uint64, now time.Time, interval time.Duration) bool {
	return s != nil && s.gen == gen && now.Sub(s.checked) < interval
}

// usable is s, or nil when decisions must read storage.
func (s *snapshot) usable() *snapshot {
	if s.oversize {
		return nil
	}
	return s
}

func (s *snapshot) autoOn(_ context.Context, _ int, classCode string) (bool, error) {
	return s.autoClasses[classCode], nil
}

func (s *snapshot) candidates(_ context.Context, _ int, sub *Subject) ([]*Rule, error) {
	regions := [...]regionKey{{LevelAny, ""}, {LevelGrid, sub.GridCode}, {LevelCommunity, sub.CommunityCode},
		{LevelStreet, sub.StreetCode}, {LevelDistrict, sub.DistrictCode}}
	var out []*Rule
	add := func(class string) {
		byRegion := s.byClass[class]
		if byRegion == nil {
			return
		}
		for _, k := range regions {
			if k.level == LevelAny || k.code != "" {
				out = append(out, byRegion[k]...)
			}
		}
	}
	add("")
	for _, p := range sub.ClassPrefixes() {
		add(p)
	}
	return out, nil
}

func (s *snapshot) describe(r *Rule) string {
	if d, ok := s.descriptions[r]; ok {
		return d
	}
	return r.describe()
}

// active returns every active department of the tenant; the caller only
// looks codes up in it.
func (s *snapshot) active(context.Context, int, []string) (map[string]bool, error) {
	return s.departments, nil
}

// index builds the lookup of the enabled rules.
func index(rules []*Rule) map[string]map[regionKey][]*Rule {
	idx := make(map[string]map[regionKey][]*Rule)
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		byRegion := idx[r.ClassCode]
		if byRegion == nil {
			byRegion = make(map[regionKey][]*Rule)
			idx[r.ClassCode] = byRegion
		}
		k := regionKey{r.RegionLevel, r.RegionCode}
		if r.RegionLevel == LevelAny {
			k.code = ""
		}
		byRegion[k] = append(byRegion[k], r)
	}
	return idx
}

// snapshots holds the snapshot of each tenant that decided in this
// process: one entry per tenant, each bounded by Config.MaxSnapshotRows.
type snapshots struct {
	mu      sync.RWMutex
	tenants map[int]*tenantSnapshot
}

// tenantSnapshot is one tenant's entry.
type tenantSnapshot struct {
	// gen moves on with every write through the use case.
	gen atomic.Uint64
	cur atomic.Pointer[snapshot]
	// loading is held by the one decision that checks or loads the
	// snapshot; the others do not wait for it.
	loading sync.Mutex
}

func newSnapshots() *snapshots { return &snapshots{tenants: map[int]*tenantSnapshot{}} }

func (c *snapshots) entry(tenantID int) *tenantSnapshot {
	c.mu.RLock()
	e := c.tenants[tenantID]
	c.mu.RUnlock()
	if e != nil {
		return e
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e = c.tenants[tenantID]; e == nil {
		e = &tenantSnapshot{}
		c.tenants[tenantID] = e
	}
	return e
}

// invalidate makes the tenant's next decision reload its snapshot. A
// decision loading it concurrently read its generation before reading
// storage, so what it loads is discarded at the next decision.
func (c *snapshots) invalidate(tenantID int) {
	c.mu.RLock()
	e := c.tenants[tenantID]
	c.mu.RUnlock()
	if e != nil {
		e.gen.Add(1)
	}
}

// invalidate is called once a write of the tenant's rules or switches
// through the use case has ended (committed, when the use case ran its
// own transaction).
func (u *Usecase) invalidate(tenantID int) {
	if u.snaps != nil {
		u.snaps.invalidate(tenantID)
	}
}

// actsIn reports whether the viewer of ctx may be served tenantID's
// snapshot: a viewer of that tenant, or the system. Anyone else reads
// storage, where the privacy rules and row-level security answer for
// them; loading for them could fill the tenant's snapshot with what they
// may see instead of what the tenant has.
func actsIn(ctx context.Context, tenantID int) bool {
	v, ok := viewer.FromContext(ctx)
	return ok && (v.IsSystem() || v.TenantID == tenantID)
}

// snapshot returns the tenant's snapshot for a decision, checking it
// against the stored stamps every Config.RefreshInterval and loading it
// when it is missing, invalidated or stale; nil when the decision must
// read storage (the snapshot is off, the viewer acts in another tenant,
// the tenant is too large, or another decision is loading it right now).
// Storage is read with ctx: under the caller's viewer, and inside the
// caller's transaction when there is one.
func (u *Usecase) snapshot(ctx context.Context, tenantID int) (*snapshot, error) {
	if u.snaps == nil || !actsIn(ctx, tenantID) {
		return nil, nil
	}
	e := u.snaps.entry(tenantID)
	now := u.cfg.Now()
	if s := e.cur.Load(); s.current(e.gen.Load(), now, u.cfg.RefreshInterval) {
		return s.usable(), nil
	}
	if !e.loading.TryLock() {
		// Rather than wait, perhaps holding a transaction and its
		// connection, read storage this once.
		return nil, nil
	}
	defer e.loading.Unlock()
	gen := e.gen.Load()
	s := e.cur.Load()
	if s.current(gen, now, u.cfg.RefreshInterval) {
		return s.usable(), nil
	}
	// The stamp is read before the rows, so a change committed in between
	// shows at the next check.
	stamp, err := u.stamp(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if s != nil && s.gen == gen && s.stamp == stamp {
		c := *s
		c.checked = now
		e.cur.Store(&c)
		return c.usable(), nil
	}
	n, err := u.load(ctx, tenantID, gen, stamp, now)
	if err != nil {
		return nil, err
	}
	e.cur.Store(n)
	return n.usable(), nil
}

func (u *Usecase) stamp(ctx context.Context, tenantID int) (string, error) {
	rs, err := u.repo.Stamp(ctx, tenantID)
	if err != nil {
		return "", fmt.Errorf("dispatch snapshot: %w", err)
	}
	ds, err := u.deps.Stamp(ctx, tenantID)
	if err != nil {
		return "", fmt.Errorf("dispatch snapshot: %w", err)
	}
	return rs + "|" + ds, nil
}

// load reads the tenant's snapshot: three queries.
func (u *Usecase) load(ctx context.Context, tenantID int, gen uint64, stamp string, now time.Time) (*snapshot, error) {
	n := &snapshot{gen: gen, stamp: stamp, checked: now}
	limit := u.cfg.MaxSnapshotRows
	on := true
	rules, err := u.repo.List(ctx, tenantID, Filter{Enabled: &on}, OrderCode, Page{Limit: limit + 1})
	if err != nil {
		return nil, fmt.Errorf("dispatch snapshot: %w", err)
	}
	if len(rules) > limit {
		n.oversize = true
		return n, nil
	}
	sws, err := u.repo.ListSwitches(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("dispatch snapshot: %w", err)
	}
	codes, err := u.deps.ActiveCodes(ctx, tenantID, limit+1)
	if err != nil {
		return nil, fmt.Errorf("dispatch snapshot: %w", err)
	}
	if len(sws) > limit || len(codes) > limit {
		n.oversize = true
		return n, nil
	}
	n.byClass = index(rules)
	n.descriptions = make(map[*Rule]string, len(rules))
	for _, r := range rules {
		if r.Enabled {
			n.descriptions[r] = r.describe()
		}
	}
	n.autoClasses = make(map[string]bool, len(sws))
	for _, s := range sws {
		if s.Auto {
			n.autoClasses[s.ClassCode] = true
		}
	}
	n.departments = make(map[string]bool, len(codes))
	for _, c := range codes {
		n.departments[c] = true
	}
	return n, nil
}
