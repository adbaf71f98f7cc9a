package platform_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/log"

	"github.com/cityops/cityops/app/pkg/evidence"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/grid"
	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
	"github.com/cityops/cityops/app/platform/internal/conf"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/department"
	"github.com/cityops/cityops/ent/federatedevent"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// caseBench is 宾阳县 on PostgreSQL with a sample territory, and viewers of
// each post of the loop.
type caseBench struct {
	r      *running
	uc     *caseflow.Usecase
	posts  map[string]context.Context
	points [][2]float64
	class  string
	photo  string
}

func newCaseBench(b *testing.B, cells, components int) *caseBench {
	b.Helper()
	db := testdb.Postgres(b)
	r := startPlatformTuned(b, db, seedDir, false, func(bc *conf.Bootstrap) {
		bc.Onboarding.DemoGridCells, bc.Onboarding.DemoComponents = 0, 0
	})
	core := r.app.Core
	ctx := context.Background()
	sys := viewer.SystemContext(ctx, "bench")
	start := time.Now()
	if err := core.LoadSampleTerritory(sys, "450126", cells, components); err != nil {
		b.Fatal(err)
	}
	b.Logf("territory: %d grids, %d components loaded in %s", cells, components, time.Since(start).Round(time.Millisecond))
	t, err := core.Tenants.Get(sys, "450126")
	if err != nil {
		b.Fatal(err)
	}
	dept, err := db.Ent.Department.Query().Where(department.Code("BY-CGJ")).Only(viewer.TenantContext(ctx, t.ID, t.Code, t.Path))
	if err != nil {
		b.Fatal(err)
	}
	as := func(id int, dep int, roles ...string) context.Context {
		return viewer.NewContext(ctx, &viewer.Viewer{Kind: viewer.User, ActorID: id, ActorName: roles[0], TenantID: t.ID,
			TenantCode: t.Code, TenantPath: t.Path, HomeTenantID: t.ID, HomeTenantCode: t.Code, Roles: roles, DepartmentID: dep})
	}
	cb := &caseBench{r: r, uc: core.Cases, posts: map[string]context.Context{
		viewer.RoleSupervisor: as(101, 0, viewer.RoleSupervisor), viewer.RoleIntake: as(102, 0, viewer.RoleIntake),
		viewer.RoleShiftLeader: as(103, 0, viewer.RoleShiftLeader), viewer.RoleDispatcher: as(104, 0, viewer.RoleDispatcher),
		viewer.RoleHandler: as(105, dept.ID, viewer.RoleHandler),
	}}
	grids, _, err := core.Grids.ListUnitGrids(sys, t, grid.ListInput{PageSize: 1000})
	if err != nil {
		b.Fatal(err)
	}
	for _, g := range grids {
		cb.points = append(cb.points, [2]float64{(g.BBox.MinLon + g.BBox.MaxLon) / 2, (g.BBox.MinLat + g.BBox.MaxLat) / 2})
	}
	listing, err := core.Taxonomy.ListClasses(cb.posts[viewer.RoleSupervisor], t.Code, taxonomy.Filter{Kind: taxonomy.Event, Level: taxonomy.Minor})
	if err != nil || len(listing.Classes) == 0 {
		b.Fatalf("classes: %v", err)
	}
	cb.class = listing.Classes[0].Code
	att, err := core.Evidence.Put(ctx, evidence.PutInput{TenantCode: t.Code, Kind: evidence.KindAfter, FileName: "after.jpg",
		Reader: bytes.NewReader(photo(b, 60))})
	if err != nil {
		b.Fatal(err)
	}
	cb.photo = att.Key
	// The first look-up builds the tenant's grid index; not part of intake.
	if _, err := core.Locator.Locate(cb.posts[viewer.RoleSupervisor], t.ID, cb.points[0][0], cb.points[0][1]); err != nil {
		b.Fatal(err)
	}
	return cb
}

func (cb *caseBench) report(i int, source caseflow.Source) caseflow.SubmitInput {
	p := cb.points[i%len(cb.points)]
	return caseflow.SubmitInput{Source: source, Kind: caseflow.KindEvent, ClassCode: cb.class,
		Description: "暴露垃圾", Lon: p[0], Lat: p[1], ReporterName: "张三", ReporterPhone: "13800138000"}
}

// BenchmarkIntake measures cases created per second through the intake
// use case (locate in the unit grids, taxonomy check, duplicate search,
// dispatch preview, number allocation, case, step and event in one
// transaction) on PostgreSQL under row-level security, and in the same run
// the raw rate of inserting the same rows (case and event) with plain SQL
// in one transaction each. CITYOPS_BENCH_GRIDS and
// CITYOPS_BENCH_COMPONENTS set the territory (南宁市 full size: 32000 and
// 1250000); both run with 4 concurrent callers.
func BenchmarkIntake(b *testing.B) {
	cb := newCaseBench(b, envInt("CITYOPS_BENCH_GRIDS", 1500), envInt("CITYOPS_BENCH_COMPONENTS", 15000))
	workers := envInt("CITYOPS_BENCH_WORKERS", 4)
	var apiRate, rawRate float64
	b.Run("api", func(b *testing.B) {
		var n atomic.Int64
		start := time.Now()
		b.SetParallelism(max(1, workers/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(n.Add(1))
				if _, err := cb.uc.Intake(cb.posts[viewer.RoleSupervisor], cb.report(i, caseflow.SourceSupervisor)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		apiRate = float64(n.Load()) / time.Since(start).Seconds()
		b.ReportMetric(apiRate, "cases/s")
	})
	var unsequencedRate float64
	var rawN atomic.Int64 // numbers stay unique across the runs of b.N
	raw := func(sequenced bool) func(b *testing.B) {
		return func(b *testing.B) {
			db := cb.r.app.Core.DB.SQL
			t, err := cb.r.app.Core.Tenants.Get(viewer.SystemContext(context.Background(), "bench"), "450126")
			if err != nil {
				b.Fatal(err)
			}
			first := rawN.Load()
			start := time.Now()
			b.SetParallelism(max(1, workers/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					i := rawN.Add(1)
					if err := rawIntake(ctx, db, t.ID, i, cb.class, cb.points[int(i)%len(cb.points)], sequenced); err != nil {
						b.Error(err)
						return
					}
				}
			})
			rate := float64(rawN.Load()-first) / time.Since(start).Seconds()
			b.ReportMetric(rate, "cases/s")
			if sequenced {
				rawRate = rate
			} else {
				unsequencedRate = rate
			}
		}
	}
	b.Run("raw", raw(true))
	b.Run("raw-unsequenced", raw(false))
	if rawRate > 0 {
		b.Logf("intake %.0f cases/s; raw SQL of the same rows %.0f cases/s (ratio %.2f, target ≥ 0.5); raw without the number and event sequences %.0f cases/s",
			apiRate, rawRate, apiRate/rawRate, unsequencedRate)
	}
}

// rawIntake writes what an intake writes — the case and its event, and,
// when sequenced, the day's case number and the tenant's event sequence
// they take — with plain SQL in one transaction, as the floor to compare
// the use case with. Unsequenced it invents both, which no correct
// writer may do: it shows what the sequences cost.
func rawIntake(ctx context.Context, db *sql.DB, tenantID int, i int64, class string, p [2]float64, sequenced bool) error {
	now := time.Now().UTC()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SELECT set_config('cityops.tenant_id', $1, true)`, strconv.Itoa(tenantID)); err != nil {
		return err
	}
	number, seq := fmt.Sprintf("R%012d", i), 1_000_000_000+i
	if sequenced {
		var n int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO case_number_counters (tenant_id, day, last) VALUES ($1, 'R', 1)
			ON CONFLICT (tenant_id, day) DO UPDATE SET last = case_number_counters.last + 1 RETURNING last`, tenantID).Scan(&n); err != nil {
			return err
		}
		number = fmt.Sprintf("R%012d", n)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cases (created_at, updated_at, number, source, kind, class_code, description,
		lon, lat, grid_code, community_code, street_code, district_code, area_class, reporter_name, reporter_phone,
		reported_by, co_department_codes, state, version, reported_at, tenant_id)
		VALUES ($1, $1, $2, 'supervisor', 'event', $3, '暴露垃圾', $4, $5, '450126001001001', '450126001001',
		'450126001', '450126', 'A', '张三', '13800138000', 'user:101', '[]', 'reported', 1, $1, $6)`,
		now, number, class, p[0], p[1], tenantID); err != nil {
		return err
	}
	if sequenced {
		if err := tx.QueryRowContext(ctx, `INSERT INTO event_heads (tenant_id, stream, last) VALUES ($1, 'raw', 1)
			ON CONFLICT (tenant_id, stream) DO UPDATE SET last = event_heads.last + 1 RETURNING last`, tenantID).Scan(&seq); err != nil {
			return err
		}
		seq += 2_000_000_000
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tenant_events (seq, event_id, type, subject, time, data, tenant_id)
		VALUES ($1, $2, 'cn.cityops.case.reported.v1', $3, $4, $5, $6)`,
		seq, fmt.Sprintf("00000000-0000-4000-8000-%012d", seq), number, now, make([]byte, 420), tenantID); err != nil {
		return err
	}
	return tx.Commit()
}

// loopOps is a full loop of 12 operations: a citizen's report verified on
// site, filed, dispatched, handled, checked (failed once: 返工), handled
// again, checked and closed.
var loopOps = []struct {
	post string
	op   caseflow.Operation
}{
	{viewer.RoleSupervisor, caseflow.OpVerify}, {viewer.RoleShiftLeader, caseflow.OpFile},
	{viewer.RoleDispatcher, caseflow.OpDispatch}, {viewer.RoleHandler, caseflow.OpAccept},
	{viewer.RoleHandler, caseflow.OpFeedback}, {viewer.RoleIntake, caseflow.OpAssignCheck},
	{viewer.RoleSupervisor, caseflow.OpCheckFail}, {viewer.RoleHandler, caseflow.OpFeedback},
	{viewer.RoleIntake, caseflow.OpAssignCheck}, {viewer.RoleSupervisor, caseflow.OpCheckPass},
	{viewer.RoleShiftLeader, caseflow.OpClose},
}

// BenchmarkCaseLoop starts full loops (submit + the 11 transitions of
// loopOps = 12 operations) at a steady rate — CITYOPS_BENCH_LOOP_RATE per
// second, default 200 — for CITYOPS_BENCH_LOOP_SECONDS (default 5), each
// loop running its steps one after another, and reports the loops
// completed per second and the p50/p99 latency of one operation.
func BenchmarkCaseLoop(b *testing.B) {
	cb := newCaseBench(b, 200, 1000)
	rate := envInt("CITYOPS_BENCH_LOOP_RATE", 200)
	secs := envInt("CITYOPS_BENCH_LOOP_SECONDS", 5)
	for b.Loop() {
		lat, n, elapsed := cb.runLoops(b, rate, secs)
		slices.Sort(lat)
		p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
		b.ReportMetric(float64(n)/elapsed.Seconds(), "loops/s")
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "ops/s")
		b.ReportMetric(float64(p(0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99-ms")
		b.Logf("offered %d loops/s for %ds: %d loops of 12 operations in %s; per operation p50 %s p99 %s",
			rate, secs, n, elapsed.Round(time.Millisecond), p(0.5), p(0.99))
	}
}

// runLoops starts loops at rate per second for secs seconds and returns
// the latency of every operation, the loops started and the time taken.
func (cb *caseBench) runLoops(b *testing.B, rate, secs int) ([]time.Duration, int, time.Duration) {
	var mu sync.Mutex
	var lat []time.Duration
	var failed atomic.Int64
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	start := time.Now()
	n := 0
	for time.Since(start) < time.Duration(secs)*time.Second {
		<-tick.C
		n++
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mine := make([]time.Duration, 0, 12)
			t0 := time.Now()
			c, err := cb.uc.Submit(cb.posts[viewer.RoleIntake], cb.report(i, caseflow.SourceHotline12345))
			mine = append(mine, time.Since(t0))
			if err != nil {
				failed.Add(1)
				return
			}
			for _, s := range loopOps {
				in := caseflow.Input{Opinion: "意见", Attachments: []string{}}
				switch s.op {
				case caseflow.OpDispatch:
					in.Department = "BY-CGJ"
				case caseflow.OpFeedback:
					in.Attachments = []string{cb.photo}
				}
				t0 := time.Now()
				_, err := cb.uc.Transition(cb.posts[s.post], c.Number, s.op, in)
				mine = append(mine, time.Since(t0))
				if err != nil {
					failed.Add(1)
					return
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(n)
	}
	tick.Stop()
	wg.Wait()
	if failed.Load() > 0 {
		b.Fatalf("%d loops failed", failed.Load())
	}
	return lat, n, time.Since(start)
}

// BenchmarkFeedEndToEnd measures what the federation issue asks: from a
// county's commit to the event being visible in the city's federated
// store, through the real relay (signing, embedded broker over TCP) and
// the city's consumer, with case loops of 宾阳县 producing about
// 12 × CITYOPS_BENCH_LOOP_RATE events/s (default 80 loops/s ≈ 960
// events/s). The latency of each event is the city's apply time minus the
// county's event time, read from the federated store after the run.
func BenchmarkFeedEndToEnd(b *testing.B) {
	cb := newCaseBench(b, 200, 1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr, err := cb.r.app.Core.StartFederation(ctx, &conf.Bootstrap{Kafka: &conf.Kafka{Enabled: true, Partitions: 3, SampleConnectors: true}}, log.NewStdLogger(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	rate := envInt("CITYOPS_BENCH_LOOP_RATE", 80)
	secs := envInt("CITYOPS_BENCH_LOOP_SECONDS", 5)
	sys := viewer.SystemContext(ctx, "bench")
	city, err := cb.r.app.Core.Tenants.Get(sys, "450100")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		from := time.Now().UTC()
		lat, n, elapsed := cb.runLoops(b, rate, secs)
		want := len(lat)
		var rows []*ent.FederatedEvent
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			rows, err = cb.r.app.Core.DB.Ent.FederatedEvent.Query().Where(federatedevent.TenantID(city.ID),
				federatedevent.SourceCode("450126"), federatedevent.TimeGTE(from)).All(sys)
			if err != nil {
				b.Fatal(err)
			}
			if len(rows) >= want {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(rows) < want {
			b.Fatalf("%d of %d events reached 南宁市", len(rows), want)
		}
		d := make([]time.Duration, len(rows))
		for i, r := range rows {
			d[i] = r.ReceivedAt.Sub(r.Time)
		}
		slices.Sort(d)
		p := func(q float64) time.Duration { return d[int(q*float64(len(d)-1))] }
		b.ReportMetric(float64(len(rows))/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(p(0.5).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(p(0.99).Microseconds())/1000, "p99-ms")
		b.Logf("%d loops → %d county events in %s; commit → visible at 南宁市: p50 %s p99 %s max %s",
			n, len(rows), elapsed.Round(time.Millisecond), p(0.5), p(0.99), d[len(d)-1])
	}
}
