package supervision_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/ent"
	"github.com/cityops/cityops/ent/casefile"
)

// seedOpen inserts n dispatched cases of te straight into storage, their
// disposal deadlines spread over the day before at, all already overdue,
// reminded and supervised: the steady state of a city with a backlog,
// where every tick reads every case and has nothing to do.
func seedOpen(b *testing.B, e *env, te *tenantEnv, n int, at time.Time) {
	b.Helper()
	sys := viewer.SystemContext(context.Background(), "bench")
	const batch = 250
	for start := 0; start < n; start += batch {
		bulk := make([]*ent.CaseFileCreate, 0, batch)
		for i := start; i < min(start+batch, n); i++ {
			d := at.Add(-time.Duration(i%1440+1) * time.Minute)
			seen := d.Add(time.Second)
			bulk = append(bulk, e.db.Ent.CaseFile.Create().SetTenantID(te.t.ID).SetNumber(fmt.Sprintf("B%012d", i)).
				SetSource(casefile.SourceSupervisor).SetKind(casefile.KindEvent).SetState(casefile.StateInDisposal).
				SetPrimaryDepartmentCode("cgj").SetGridCode(te.grid).SetStreetCode(te.street).
				SetDisposeDeadline(d).SetPreRemindedFor(d).SetOverdue(true).SetOverdueAt(seen).
				SetSupervised(true).SetSuperviseDeadline(seen.Add(24*time.Hour)))
		}
		if err := e.db.Ent.CaseFile.CreateBulk(bulk...).Exec(sys); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTick measures a tick over 10,000 open cases: "steady" reads
// them all and finds nothing due (the common tick); "remind" sends 100
// reminders (one transaction each: mark, step, event, notification).
func BenchmarkTick(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *database.DB
			if dialect == "sqlite" {
				db = testdb.SQLite(b)
			} else {
				db = testdb.Postgres(b)
			}
			e := newEnv(b, db, testConfig)
			at := t0.Add(48 * time.Hour)
			const open = 10000
			seedOpen(b, e, e.a, open, at)
			ctx := context.Background()

			b.Run("steady", func(b *testing.B) {
				scanned := 0
				b.ResetTimer()
				for b.Loop() {
					rep, err := e.sched.Tick(ctx, at)
					if err != nil {
						b.Fatal(err)
					}
					if rep.Scanned != open || rep.Reminded+rep.Overdue+rep.Supervised+rep.Escalated != 0 {
						b.Fatalf("report: %+v", rep)
					}
					scanned += rep.Scanned
				}
				b.ReportMetric(float64(scanned)/b.Elapsed().Seconds(), "cases/s")
			})

			b.Run("remind", func(b *testing.B) {
				const due = 100
				// due cases whose disposal deadline is an hour after at.
				var ids []int
				sys := viewer.SystemContext(ctx, "bench")
				for i := range due {
					c, err := e.db.Ent.CaseFile.Create().SetTenantID(e.a.t.ID).SetNumber(fmt.Sprintf("R%012d", i)).
						SetSource(casefile.SourceSupervisor).SetKind(casefile.KindEvent).SetState(casefile.StateInDisposal).
						SetPrimaryDepartmentCode("cgj").SetDisposeDeadline(at.Add(time.Hour)).Save(sys)
					if err != nil {
						b.Fatal(err)
					}
					ids = append(ids, c.ID)
				}
				marks := 0
				b.ResetTimer()
				for b.Loop() {
					b.StopTimer()
					if err := e.db.Ent.CaseFile.Update().Where(casefile.IDIn(ids...)).ClearPreRemindedFor().Exec(sys); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					rep, err := e.sched.Tick(ctx, at)
					if err != nil {
						b.Fatal(err)
					}
					if rep.Reminded != due {
						b.Fatalf("report: %+v", rep)
					}
					marks += rep.Reminded
				}
				b.ReportMetric(float64(marks)/b.Elapsed().Seconds(), "marks/s")
			})
		})
	}
}
