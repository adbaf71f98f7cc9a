package caseflow_test

import (
	"testing"
	"time"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	biz "github.com/cityops/cityops/app/platform/internal/biz/caseflow"
)

func benchDBs(b *testing.B, fn func(b *testing.B, db *database.DB)) {
	b.Run("postgres", func(b *testing.B) { fn(b, testdb.Postgres(b)) })
	b.Run("sqlite", func(b *testing.B) { fn(b, testdb.SQLite(b)) })
}

// BenchmarkTransition measures transitions per second: each iteration is
// one full transition (load, check, versioned update, step, event) on a
// case cycling request_delay / deny_delay.
func BenchmarkTransition(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *database.DB) {
		e := newEnv(b, db, nil)
		a := e.a
		c := e.toDisposal(b, a)
		hctx, dctx := a.as(handler, a.deptA), a.as(dispatcher, 0)
		req := biz.Input{Opinion: "需延期", Duration: time.Hour}
		deny := biz.Input{Opinion: "不予延期"}
		b.ReportAllocs()
		start := time.Now()
		i := 0
		for b.Loop() {
			var err error
			if i%2 == 0 {
				c, err = e.uc.Transition(hctx, c.Number, biz.OpRequestDelay, req)
			} else {
				c, err = e.uc.Transition(dctx, c.Number, biz.OpDenyDelay, deny)
			}
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(i)/time.Since(start).Seconds(), "transitions/s")
	})
}

// BenchmarkSubmit measures reports per second (number allocation, insert,
// step, event).
func BenchmarkSubmit(b *testing.B) {
	benchDBs(b, func(b *testing.B, db *database.DB) {
		e := newEnv(b, db, nil)
		ctx := e.a.as(supervisor, 0)
		in := biz.SubmitInput{Source: biz.SourceSupervisor, Kind: biz.KindComponent, ClassCode: "0101", Description: "井盖破损"}
		b.ReportAllocs()
		start := time.Now()
		n := 0
		for b.Loop() {
			if _, err := e.uc.Submit(ctx, in); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "submits/s")
	})
}
