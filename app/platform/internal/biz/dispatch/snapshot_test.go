package dispatch_test

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/dispatch"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// liveDeps are departments another replica may change, with a stamp and
// a count of the calls.
type liveDeps struct {
	mu      sync.Mutex
	active  map[string]bool
	version int
	calls   int
}

func newLiveDeps() *liveDeps { return &liveDeps{active: maps.Clone(active)} }

func (d *liveDeps) set(code string, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.active[code] = on
	d.version++
}

func (d *liveDeps) callCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

func (d *liveDeps) Active(_ context.Context, _ int, codes []string) (map[string]bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	out := map[string]bool{}
	for _, c := range codes {
		if d.active[c] {
			out[c] = true
		}
	}
	return out, nil
}

func (d *liveDeps) ActiveCodes(_ context.Context, _ int, limit int) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	var out []string
	for c, on := range d.active {
		if on && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (d *liveDeps) Stamp(context.Context, int) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	return strconv.Itoa(d.version), nil
}

// snapEnv is a use case over fakes that count what it reads.
type snapEnv struct {
	repo  *memRepo
	deps  *liveDeps
	clock *fakeClock
	u     *dispatch.Usecase
}

// newSnapEnv stores rules of tenants 1 and 2 (by tenant id) and switches
// class 0101 on in both.
func newSnapEnv(t testing.TB, cfg dispatch.Config, rules map[int][]*dispatch.Rule) *snapEnv {
	t.Helper()
	e := &snapEnv{repo: newMemRepo(), deps: newLiveDeps(), clock: &fakeClock{t: at("2026-11-23 10:00")}}
	ctx := context.Background()
	for tid, rs := range rules {
		for _, r := range rs {
			if _, err := e.repo.Create(ctx, tid, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tid := range []int{1, 2} {
		if _, err := e.repo.SetSwitch(ctx, tid, &dispatch.Switch{ClassCode: "0101", Auto: true}); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Now = e.clock.Now
	e.u = dispatch.NewUsecase(e.repo, e.deps, nil, tenants{}, noTx{}, cfg)
	return e
}

// decide decides a 0101 case in grid of tenant tid as a viewer of tenant
// viewerOf, at the clock.
func (e *snapEnv) decide(t testing.TB, viewerOf, tid int) *caseflow.DispatchDecision {
	t.Helper()
	d, err := e.u.Decide(as(viewerOf), &caseflow.Case{TenantID: tid, ClassCode: "0101", GridCode: grid})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// reads is every read call so far, of the repository and the departments.
func (e *snapEnv) reads() map[string]int {
	c := e.repo.callCounts()
	c["deps"] = e.deps.callCount()
	return c
}

// TestSnapshotHit: once a tenant's snapshot is loaded, decisions read
// nothing at all from storage.
func TestSnapshotHit(t *testing.T) {
	t.Parallel()
	e := newSnapEnv(t, dispatch.Config{}, map[int][]*dispatch.Rule{1: {
		rule("S", "cgj", class("0101"), region(dispatch.LevelStreet, street)), rule("G", "hw", class("0101"), region(dispatch.LevelGrid, grid), co("szj")),
	}})
	if d := e.decide(t, 1, 1); !d.Auto || d.RuleCode != "G" || d.Department != "hw" {
		t.Fatalf("first decision = %+v", d)
	}
	loaded := e.reads()
	for name, want := range map[string]int{"Stamp": 1, "List": 1, "ListSwitches": 1, "Candidates": 0, "AutoOn": 0} {
		if loaded[name] != want {
			t.Errorf("loading: %s called %d times, want %d (%v)", name, loaded[name], want, loaded)
		}
	}
	for i := range 50 {
		e.clock.Advance(time.Second / 10)
		if i%2 == 0 {
			if d := e.decide(t, 1, 1); d.RuleCode != "G" || !d.Auto {
				t.Fatalf("decision %d = %+v", i, d)
			}
			continue
		}
		d, err := e.u.Preview(as(1), "450126", dispatch.Subject{ClassCode: "0101", StreetCode: street, At: at("2026-11-23 10:00")})
		if err != nil || d.RuleCode != "S" || d.Department != "cgj" {
			t.Fatalf("preview %d = %+v, %v", i, d, err)
		}
	}
	if diff := cmp.Diff(loaded, e.reads()); diff != "" {
		t.Errorf("decisions from the snapshot read storage (-after load +after the decisions):\n%s", diff)
	}
}

// TestSnapshotMatchesStorage: over a large matrix, the snapshot decides
// every subject exactly as the queries do.
func TestSnapshotMatchesStorage(t *testing.T) {
	t.Parallel()
	rules := benchMatrix(2000)
	rules = append(rules,
		rule("COND", "hw", class("0105"), cond("0105-01"), area("A"), region(dispatch.LevelStreet, "450126002")),
		rule("DETAIL", "ld", class("010501")),
		rule("OFF", "yl", class("0106"), region(dispatch.LevelGrid, "450126001001001"), prio(99), disabled()),
		rule("FB", "szj", fallback(), class("02")),
		rule("FBS", "cgj", fallback(), region(dispatch.LevelStreet, "450126003")),
	)
	switches := map[string]bool{}
	for i := range 40 {
		switches[fmt.Sprintf("01%02d", i)] = i%2 == 0
	}
	repo := newMemRepo()
	ctx := context.Background()
	for _, r := range rules {
		if _, err := repo.Create(ctx, 1, r); err != nil {
			t.Fatal(err)
		}
	}
	for c, on := range switches {
		if _, err := repo.SetSwitch(ctx, 1, &dispatch.Switch{ClassCode: c, Auto: on}); err != nil {
			t.Fatal(err)
		}
	}
	cached := dispatch.NewUsecase(repo, active, nil, tenants{}, noTx{}, dispatch.Config{})
	queried := dispatch.NewUsecase(repo, active, nil, tenants{}, noTx{}, dispatch.Config{RefreshInterval: -1})
	subjects := benchSubjects()
	for i := range 200 {
		subjects = append(subjects,
			dispatch.Subject{ClassCode: "0105", DetailCode: "010501", FilingConditionCode: "0105-0" + strconv.Itoa(i%2+1),
				AreaClass: []string{"", "A", "B"}[i%3], StreetCode: fmt.Sprintf("450126%03d", i%4+1), At: at("2026-11-23 08:00").Add(time.Duration(i) * time.Hour)},
			dispatch.Subject{ClassCode: fmt.Sprintf("%02d%02d", i%3+1, i%40), DistrictCode: "450126", At: at("2026-11-23 23:00")},
			dispatch.Subject{ClassCode: "0106", GridCode: "450126001001001", At: at("2026-11-23 12:00")},
		)
	}
	for i, s := range subjects {
		want, err := queried.Preview(as(1), "450126", s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cached.Preview(as(1), "450126", s)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("subject %d %+v: snapshot and storage differ (-storage +snapshot):\n%s", i, s, diff)
		}
	}
	if n := repo.callCounts()["List"]; n != 1 {
		t.Errorf("the snapshot was loaded %d times, want once", n)
	}
}

// TestSnapshotInvalidation: every kind of write through the use case is
// seen by the very next decision of the process; counting is no write.
func TestSnapshotInvalidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		write  func(u *dispatch.Usecase) error
		check  func(d *caseflow.DispatchDecision) bool
		reload bool
	}{
		{"create", func(u *dispatch.Usecase) error {
			_, err := u.Create(as(1), "450126", rule("G", "hw", class("0101"), region(dispatch.LevelGrid, grid)))
			return err
		}, func(d *caseflow.DispatchDecision) bool { return d.RuleCode == "G" && d.Department == "hw" }, true},
		{"update", func(u *dispatch.Usecase) error {
			_, err := u.Update(as(1), "450126", "S", rule("", "szj", class("0101"), region(dispatch.LevelStreet, street)), false)
			return err
		}, func(d *caseflow.DispatchDecision) bool { return d.RuleCode == "S" && d.Department == "szj" }, true},
		{"disable", func(u *dispatch.Usecase) error {
			_, err := u.Update(as(1), "450126", "S", rule("", "cgj", class("0101"), region(dispatch.LevelStreet, street), disabled()), false)
			return err
		}, func(d *caseflow.DispatchDecision) bool { return d.RuleCode == "territory:"+street }, true},
		{"delete", func(u *dispatch.Usecase) error { return u.Delete(as(1), "450126", "S") },
			func(d *caseflow.DispatchDecision) bool { return d.RuleCode == "territory:"+street }, true},
		{"switch off", func(u *dispatch.Usecase) error { _, err := u.SetAuto(as(1), "450126", "0101", false); return err },
			func(d *caseflow.DispatchDecision) bool { return d.RuleCode == "S" && !d.Auto }, true},
		{"import", func(u *dispatch.Usecase) error {
			_, err := u.Import(as(1), dispatch.ImportInput{TenantCode: "450126",
				Data: []byte("规则编号,小类代码,区域层级,区域代码,主办单位\nG2,0101,网格," + grid + ",ld\n")})
			return err
		}, func(d *caseflow.DispatchDecision) bool { return d.RuleCode == "G2" && d.Department == "ld" }, true},
		{"import replacing", func(u *dispatch.Usecase) error {
			_, err := u.Import(as(1), dispatch.ImportInput{TenantCode: "450126", Replace: true,
				Data: []byte("规则编号,小类代码,主办单位\nA,0101,yl\n")})
			return err
		}, func(d *caseflow.DispatchDecision) bool { return d.RuleCode == "A" && d.Department == "yl" }, true},
		{"import dry run", func(u *dispatch.Usecase) error {
			_, err := u.Import(as(1), dispatch.ImportInput{TenantCode: "450126", DryRun: true,
				Data: []byte("规则编号,小类代码,区域层级,区域代码,主办单位\nG2,0101,网格," + grid + ",ld\n")})
			return err
		}, func(d *caseflow.DispatchDecision) bool { return d.RuleCode == "S" }, false},
		{"counters", func(u *dispatch.Usecase) error {
			if err := u.Dispatched(as(1), "S"); err != nil {
				return err
			}
			return u.Returned(as(1), "S")
		}, func(d *caseflow.DispatchDecision) bool { return d.RuleCode == "S" && d.Auto }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newSnapEnv(t, dispatch.Config{}, map[int][]*dispatch.Rule{1: {rule("S", "cgj", class("0101"), region(dispatch.LevelStreet, street))}})
			if d := e.decide(t, 1, 1); d.RuleCode != "S" || !d.Auto {
				t.Fatalf("before = %+v", d)
			}
			if err := tt.write(e.u); err != nil {
				t.Fatal(err)
			}
			d := e.decide(t, 1, 1)
			if !tt.check(d) {
				t.Fatalf("after the write = %+v", d)
			}
			wantLoads := 1
			if tt.reload {
				wantLoads = 2
			}
			if n := e.repo.callCounts()["List"]; n != wantLoads {
				t.Errorf("snapshot loaded %d times, want %d", n, wantLoads)
			}
		})
	}
}

// TestSnapshotRefresh: changes the use case did not make (another
// replica, the departments) are found within RefreshInterval by the
// stamps, and an unchanged stamp reloads nothing.
func TestSnapshotRefresh(t *testing.T) {
	t.Parallel()
	e := newSnapEnv(t, dispatch.Config{RefreshInterval: 10 * time.Second},
		map[int][]*dispatch.Rule{1: {rule("S", "cgj", class("0101"), region(dispatch.LevelStreet, street))}})
	e.decide(t, 1, 1)
	// Another replica writes a better rule.
	if _, err := e.repo.Create(context.Background(), 1, rule("G", "hw", class("0101"), region(dispatch.LevelGrid, grid))); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(9 * time.Second)
	if d := e.decide(t, 1, 1); d.RuleCode != "S" {
		t.Fatalf("within the interval = %+v, want the snapshot's S", d)
	}
	if c := e.repo.callCounts(); c["Stamp"] != 1 || c["List"] != 1 {
		t.Fatalf("within the interval: %v", c)
	}
	e.clock.Advance(time.Second)
	if d := e.decide(t, 1, 1); d.RuleCode != "G" {
		t.Fatalf("after the interval = %+v, want G", d)
	}
	if c := e.repo.callCounts(); c["Stamp"] != 2 || c["List"] != 2 {
		t.Fatalf("after the interval: %v", c)
	}
	// Nothing changed: the stamp is checked, nothing is reloaded.
	e.clock.Advance(10 * time.Second)
	e.decide(t, 1, 1)
	if c := e.repo.callCounts(); c["Stamp"] != 3 || c["List"] != 2 {
		t.Fatalf("unchanged stamp: %v", c)
	}
	// A department goes out of use elsewhere.
	e.deps.set("hw", false)
	e.clock.Advance(10 * time.Second)
	if d := e.decide(t, 1, 1); d.RuleCode != "G" || d.Auto || !strings.Contains(d.Reason, "已停用：hw") {
		t.Fatalf("after the department stopped = %+v", d)
	}
	if c := e.repo.callCounts(); c["List"] != 3 {
		t.Fatalf("department change: %v", c)
	}
}

// TestSnapshotTenants: a tenant's snapshot serves only that tenant, a
// viewer of another tenant neither loads nor reads it, and a write
// reloads only its own tenant's.
func TestSnapshotTenants(t *testing.T) {
	t.Parallel()
	e := newSnapEnv(t, dispatch.Config{}, map[int][]*dispatch.Rule{
		1: {rule("A1", "cgj", class("0101"))},
		2: {rule("B1", "szj", class("0101"))},
	})
	// A viewer of tenant 2 deciding for tenant 1 reads storage (where
	// privacy and row-level security answer for it) and loads nothing.
	e.decide(t, 2, 1)
	if c := e.repo.callCounts(); c["List"] != 0 || c["Candidates"] != 1 {
		t.Fatalf("foreign viewer: %v", c)
	}
	for range 3 {
		if d := e.decide(t, 1, 1); d.RuleCode != "A1" || d.Department != "cgj" {
			t.Fatalf("tenant 1 = %+v", d)
		}
		if d := e.decide(t, 2, 2); d.RuleCode != "B1" || d.Department != "szj" {
			t.Fatalf("tenant 2 = %+v", d)
		}
		// The case's tenant, not the viewer's, picks the snapshot: a
		// case without one is the viewer's.
		d, err := e.u.Decide(as(2), &caseflow.Case{ClassCode: "0101", GridCode: grid})
		if err != nil || d.RuleCode != "B1" {
			t.Fatalf("tenant 2 by its viewer = %+v, %v", d, err)
		}
	}
	c := e.repo.callCounts()
	if c["List:1"] != 1 || c["List:2"] != 1 || c["Candidates"] != 1 {
		t.Fatalf("two tenants: %v", c)
	}
	// Tenant 1's snapshot is warm; tenant 2's viewer still goes to storage.
	e.decide(t, 2, 1)
	if c := e.repo.callCounts(); c["Candidates"] != 2 {
		t.Fatalf("foreign viewer on a warm snapshot: %v", c)
	}
	// A write of tenant 2 reloads tenant 2's snapshot only.
	if _, err := e.u.Create(as(2), "450181", rule("B2", "hw", class("0101"), region(dispatch.LevelGrid, grid))); err != nil {
		t.Fatal(err)
	}
	if d := e.decide(t, 2, 2); d.RuleCode != "B2" {
		t.Fatalf("tenant 2 after its write = %+v", d)
	}
	if d := e.decide(t, 1, 1); d.RuleCode != "A1" {
		t.Fatalf("tenant 1 after tenant 2's write = %+v", d)
	}
	if c := e.repo.callCounts(); c["List:1"] != 1 || c["List:2"] != 2 {
		t.Fatalf("after tenant 2's write: %v", c)
	}
}

// TestSnapshotOversize: a tenant above MaxSnapshotRows is not held; its
// decisions read storage, and its size is checked again only when its
// stamp moves.
func TestSnapshotOversize(t *testing.T) {
	t.Parallel()
	// Ten active departments, one switch, eleven rules.
	rules := []*dispatch.Rule{rule("S", "cgj", class("0101"), region(dispatch.LevelStreet, street)), rule("G", "hw", class("0101"), region(dispatch.LevelGrid, grid))}
	for i := range 9 {
		rules = append(rules, rule("F"+strconv.Itoa(i), "ld", class("0199")))
	}
	e := newSnapEnv(t, dispatch.Config{MaxSnapshotRows: 10}, map[int][]*dispatch.Rule{1: rules})
	for range 3 {
		if d := e.decide(t, 1, 1); d.RuleCode != "G" || !d.Auto {
			t.Fatalf("decision = %+v", d)
		}
	}
	if c := e.repo.callCounts(); c["List"] != 1 || c["Candidates"] != 3 {
		t.Fatalf("oversize: %v", c)
	}
	if err := e.u.Delete(as(1), "450126", "G"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if d := e.decide(t, 1, 1); d.RuleCode != "S" {
			t.Fatalf("after the delete = %+v", d)
		}
	}
	if c := e.repo.callCounts(); c["List"] != 2 || c["Candidates"] != 3 {
		t.Fatalf("back under the limit: %v", c)
	}
}

// TestSnapshotConcurrent decides from many goroutines while rules are
// written: no race, and once the writes are over, decisions see the last.
func TestSnapshotConcurrent(t *testing.T) {
	t.Parallel()
	e := newSnapEnv(t, dispatch.Config{}, map[int][]*dispatch.Rule{1: {rule("S", "cgj", class("0101"), region(dispatch.LevelStreet, street))},
		2: {rule("B", "szj", class("0101"))}})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				tid := 1 + (g+i)%2
				d, err := e.u.Decide(as(tid), &caseflow.Case{TenantID: tid, ClassCode: "0101", GridCode: grid})
				if err != nil {
					errs <- err
					return
				}
				if tid == 2 && d.RuleCode != "B" {
					errs <- fmt.Errorf("tenant 2 decided %+v", d)
					return
				}
			}
		}()
	}
	for i := range 20 {
		if _, err := e.u.Update(as(1), "450126", "S", rule("", []string{"cgj", "szj", "hw", "ld"}[i%4], class("0101"), region(dispatch.LevelStreet, street)), false); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if d := e.decide(t, 1, 1); d.RuleCode != "S" || d.Department != "ld" {
		t.Fatalf("after the writes = %+v", d)
	}
}
