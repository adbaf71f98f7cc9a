package audit_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
)

// BenchmarkAppend measures appends per second, each in its own
// transaction: one writer on one chain, and 8 parallel writers on 8
// distinct chains (tenants do not wait for each other) or on one chain
// (they take turns on its head).
//
//	go test -run '^$' -bench Append ./app/platform/internal/biz/audit/
func BenchmarkAppend(b *testing.B) {
	dbs := map[string]func(b *testing.B) *database.DB{
		"sqlite": func(b *testing.B) *database.DB { return testdb.SQLite(b) },
		"postgres": func(b *testing.B) *database.DB {
			db, closeDB, err := database.Open(b.Context(), database.Config{Driver: database.DriverPostgres, DSN: testdb.PostgresDSN(b), MaxOpenConns: 16})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(closeDB)
			return db
		},
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect+"/one-chain", func(b *testing.B) {
			uc := newUsecase(dbs[dialect](b))
			ctx := context.Background()
			for i := 0; b.Loop(); i++ {
				if err := uc.Append(ctx, entry(tenantA, codeA, i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
		for _, distinct := range []bool{true, false} {
			name := "8-writers-8-chains"
			if !distinct {
				name = "8-writers-one-chain"
			}
			b.Run(dialect+"/"+name, func(b *testing.B) {
				uc := newUsecase(dbs[dialect](b))
				var next atomic.Int64
				// 8 goroutines whatever GOMAXPROCS is.
				b.SetParallelism((8 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					w := int(next.Add(1))
					id, code := tenantA, codeA
					if distinct {
						id, code = w, fmt.Sprintf("4501%02d", w)
					}
					ctx := context.Background()
					for i := 0; pb.Next(); i++ {
						if err := uc.Append(ctx, entry(id, code, i)); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			})
		}
	}
}
