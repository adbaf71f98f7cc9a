package component_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cityops/cityops/app/pkg/database"
	"github.com/cityops/cityops/app/pkg/testdb"
	biz "github.com/cityops/cityops/app/platform/internal/biz/component"
)

// benchRows is the size of the generated census file:
// CITYOPS_BENCH_IMPORT_ROWS, default 100,000 (the full figure is
// 1250000, opt-in because it takes about a minute).
func benchRows() int {
	if v, err := strconv.Atoi(os.Getenv("CITYOPS_BENCH_IMPORT_ROWS")); err == nil && v > 0 {
		return v
	}
	return 100_000
}

// benchRow is the i-th generated component: 2026 ids, a few classes,
// points on a 10 m lattice around 宾阳, Chinese text.
func benchRow(i int) []string {
	classes := []string{"01001", "01037", "02017", "04013"}
	cls := classes[i%len(classes)]
	return []string{
		fmt.Sprintf("450126%s%06d", cls, i/len(classes)), "部件" + strconv.Itoa(i), cls,
		"11450126MB1234567X", "宾阳县城市管理局", "", "", "", "", "450126001001001",
		"完好", "20230501", "", "实测", "",
		strconv.FormatFloat(108.7+float64(i%1000)*0.0001, 'f', 7, 64),
		strconv.FormatFloat(23.1+float64(i/1000)*0.0001, 'f', 7, 64), "WGS84",
	}
}

func writeBenchFile(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "census.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	_, _ = w.WriteString(header)
	for i := range n {
		r := benchRow(i)
		for j, v := range r {
			if j > 0 {
				_ = w.WriteByte(',')
			}
			_, _ = w.WriteString(v)
		}
		_ = w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkImportComponents imports a generated census file into a fresh
// PostgreSQL database (as the application role, under row-level
// security) and, on the same server, measures the raw ceiling: pgx
// CopyFrom of the same rows into a bare table without indexes. It reports
// rows/s of both, their ratio (the target: within 3× of COPY) and
// the rate of re-importing the unchanged file.
func BenchmarkImportComponents(b *testing.B) {
	n := benchRows()
	path := writeBenchFile(b, n)
	batch := biz.DefaultBatchSize
	if v, err := strconv.Atoi(os.Getenv("CITYOPS_BENCH_IMPORT_BATCH")); err == nil && v > 0 {
		batch = v
	}
	var importDur, reimportDur, copyDur time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		app, owner := testdb.PostgresDSNs(b)
		db, closeDB, err := database.Open(context.Background(), database.Config{Driver: database.DriverPostgres, DSN: app, MaxOpenConns: 4})
		if err != nil {
			b.Fatal(err)
		}
		e := newEnv(b, db)
		ctx := e.as("450126")
		run := func() *biz.ImportReport {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			rep, err := e.uc.Import(ctx, biz.ImportInput{TenantCode: "450126", Name: path, Source: f, BatchSize: batch})
			if err != nil {
				b.Fatal(err)
			}
			return rep
		}
		b.StartTimer()
		start := time.Now()
		rep := run()
		importDur += time.Since(start)
		b.StopTimer()
		if rep.Inserted != int64(n) || rep.Rejected != 0 {
			b.Fatalf("import: %+v", rep)
		}
		start = time.Now()
		if rep := run(); rep.Unchanged != int64(n) {
			b.Fatalf("re-import: %+v", rep)
		}
		reimportDur += time.Since(start)
		closeDB()
		copyDur += copyCeiling(b, owner, n)
	}
	rate := func(d time.Duration) float64 { return float64(n) * float64(b.N) / d.Seconds() }
	b.ReportMetric(rate(importDur), "rows/s")
	b.ReportMetric(rate(reimportDur), "reimport_rows/s")
	b.ReportMetric(rate(copyDur), "copy_rows/s")
	b.ReportMetric(rate(copyDur)/rate(importDur), "copy/import")
	b.ReportMetric(float64(n), "rows")
}

// copyCeiling copies the same n rows with pgx CopyFrom into a bare table
// (same columns, no index, no constraint, no row-level security) and
// returns how long the COPY took.
func copyCeiling(b *testing.B, dsn string, n int) time.Duration {
	b.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	cols := []string{"obj_id", "name", "class_code", "main_dept_code", "main_dept_name", "owner_code", "owner_name",
		"maintainer_code", "maintainer_name", "grid_code", "status", "initial_date", "change_date", "data_source", "note",
		"lon", "lat", "crs"}
	ddl := "CREATE TABLE bare_components (tenant_id bigint, created_at timestamptz, updated_at timestamptz"
	for _, c := range cols {
		typ := "text"
		if c == "lon" || c == "lat" {
			typ = "double precision"
		}
		ddl += ", " + c + " " + typ
	}
	if _, err := conn.Exec(ctx, ddl+")"); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= n {
			return nil, nil
		}
		r := benchRow(i)
		i++
		vals := []any{1, now, now}
		for j, v := range r {
			if cols[j] == "lon" || cols[j] == "lat" {
				f, _ := strconv.ParseFloat(v, 64)
				vals = append(vals, f)
				continue
			}
			vals = append(vals, v)
		}
		return vals, nil
	})
	start := time.Now()
	copied, err := conn.CopyFrom(ctx, pgx.Identifier{"bare_components"}, append([]string{"tenant_id", "created_at", "updated_at"}, cols...), src)
	d := time.Since(start)
	if err != nil || copied != int64(n) {
		b.Fatalf("copy: %d, %v", copied, err)
	}
	return d
}
