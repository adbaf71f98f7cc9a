package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/cityops/cityops/app/pkg/apierr"
	"github.com/cityops/cityops/app/platform/admin"
)

// componentUsage is the usage of the component subcommands.
const componentUsage = `Usage:
  cityctl [-conf FILE] [-lang zh-CN|en] component import [-crs WGS84|GCJ02] CODE FILE.csv|FILE.geojson
        import a census file (UTF-8, UTF-8 BOM or GBK CSV, or GeoJSON); resumable: run it again
        after an interruption; rejected rows go to FILE.rejected.csv
  cityctl [-conf FILE] [-lang zh-CN|en] component export CODE FILE.csv|FILE.geojson
  cityctl [-conf FILE] [-lang zh-CN|en] component nearby CODE LON LAT RADIUS_M
`

// shownRejections is how many rejected rows the import prints; the rest
// are in the report file.
const shownRejections = 50

// runComponent runs "cityctl component …" (args follow "component") and
// returns the exit code: 0 on success, 1 on failure, 2 on a usage error,
// and for import 3 when the file was imported but some rows were rejected
// (scripts can tell a partial import from a failed one).
func runComponent(ctx context.Context, args []string, l string, open func() (*admin.Admin, func(), bool), stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, componentUsage)
		return 2
	}
	switch args[0] {
	case "import":
		fs := flag.NewFlagSet("component import", flag.ContinueOnError)
		fs.SetOutput(stderr)
		crs := fs.String("crs", "", "coordinate system of rows without a 坐标系 column (WGS84 or GCJ02)")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 2 {
			fmt.Fprint(stderr, componentUsage)
			return 2
		}
		if _, ok := admin.ComponentFormatOf(fs.Arg(1)); !ok {
			fmt.Fprint(stderr, componentUsage)
			return 2
		}
		a, closeFn, ok := open()
		if !ok {
			return 1
		}
		defer closeFn()
		return componentImport(ctx, a, fs.Arg(0), fs.Arg(1), *crs, l, stdout, stderr)
	case "export":
		if len(args) != 3 {
			break
		}
		if _, ok := admin.ComponentFormatOf(args[2]); !ok {
			break
		}
		a, closeFn, ok := open()
		if !ok {
			return 1
		}
		defer closeFn()
		start := time.Now()
		n, err := a.ExportComponents(ctx, args[1], args[2])
		if err != nil {
			fmt.Fprintln(stderr, "cityctl: component export:", apierr.NewLocalizer().Localize(err, l, "").Message)
			return 1
		}
		fmt.Fprintf(stdout, msg(l, "已导出 %d 个部件到 %s（%s）\n", "exported %d components to %s (%s)\n"), n, args[2], time.Since(start).Round(time.Millisecond))
		return 0
	case "nearby":
		if len(args) != 5 {
			break
		}
		lon, err1 := strconv.ParseFloat(args[2], 64)
		lat, err2 := strconv.ParseFloat(args[3], 64)
		radius, err3 := strconv.ParseFloat(args[4], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			break
		}
		a, closeFn, ok := open()
		if !ok {
			return 1
		}
		defer closeFn()
		hits, err := a.NearbyComponents(ctx, args[1], lon, lat, radius, 200)
		if err != nil {
			fmt.Fprintln(stderr, "cityctl: component nearby:", apierr.NewLocalizer().Localize(err, l, "").Message)
			return 1
		}
		for _, h := range hits {
			c := h.Component
			fmt.Fprintf(stdout, "%8.1f m  %-17s %-5s %s  %s  (%.7f, %.7f)\n", h.DistanceM, c.ObjID, c.ClassCode, c.Name, c.Status.ZH(), c.Lon, c.Lat)
		}
		fmt.Fprintf(stdout, msg(l, "共 %d 个部件\n", "%d component(s)\n"), len(hits))
		return 0
	}
	fmt.Fprint(stderr, componentUsage)
	return 2
}

// componentImport imports one file with a progress line on stderr and
// writes every rejected row to FILE.rejected.csv.
func componentImport(ctx context.Context, a *admin.Admin, code, path, crs, l string, stdout, stderr io.Writer) int {
	reportPath := path + ".rejected.csv"
	rf, err := os.Create(reportPath)
	if err != nil {
		fmt.Fprintln(stderr, "cityctl: component import:", err)
		return 1
	}
	rw := csv.NewWriter(rf)
	_ = rw.Write([]string{msg(l, "行号", "line"), msg(l, "列", "column"), msg(l, "原因代码", "reason"), msg(l, "说明", "message")})
	var shown []admin.ComponentRejection
	onReject := func(r admin.ComponentRejection) {
		text := r.ZH
		if l == apierr.EN {
			text = r.EN
		}
		_ = rw.Write([]string{strconv.FormatInt(r.Line, 10), r.Column, r.Reason, text})
		if len(shown) < shownRejections {
			shown = append(shown, r)
		}
	}
	progress := func(p admin.ComponentProgress) {
		pct := 0
		if p.Size > 0 {
			pct = int(p.Bytes * 100 / p.Size)
		}
		eta := msg(l, "剩余 ", "ETA ") + p.ETA.Round(time.Second).String()
		if p.Done {
			pct, eta = 100, msg(l, "完成", "done")
		}
		fmt.Fprintf(stderr, "\r%s %3d%%  %d %s  %.0f %s  %s   ", bar(pct, 100, 30), pct, p.Rows, msg(l, "行", "rows"),
			p.RowsPerSec, msg(l, "行/秒", "rows/s"), eta)
	}
	rep, err := a.ImportComponents(ctx, code, path, crs, progress, onReject)
	fmt.Fprintln(stderr)
	rw.Flush()
	if cerr := rf.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "cityctl: component import:", apierr.NewLocalizer().Localize(err, l, "").Message)
		if rep != nil && rep.Rows > 0 {
			fmt.Fprintln(stderr, msg(l, "已提交的行不会丢失；再次运行同一命令即可从中断处继续", "committed rows are kept; run the same command again to resume"))
		}
		return 1
	}
	if rep.Resumed {
		fmt.Fprintln(stdout, msg(l, "已从上次中断处继续导入", "resumed an interrupted import"))
	}
	fmt.Fprintf(stdout, msg(l, "%s（编码 %s）：共 %d 行，新增 %d，更新 %d，未变 %d，拒绝 %d\n",
		"%s (encoding %s): %d rows, %d inserted, %d updated, %d unchanged, %d rejected\n"),
		path, rep.Encoding, rep.Rows, rep.Inserted, rep.Updated, rep.Unchanged, rep.Rejected)
	if rep.Rejected == 0 {
		_ = os.Remove(reportPath)
		return 0
	}
	for _, r := range shown {
		text := r.ZH
		if l == apierr.EN {
			text = r.EN
		}
		col := ""
		if r.Column != "" {
			col = " [" + r.Column + "]"
		}
		fmt.Fprintf(stdout, msg(l, "  第 %d 行%s：%s\n", "  line %d%s: %s\n"), r.Line, col, text)
	}
	if rep.Rejected > int64(len(shown)) {
		fmt.Fprintf(stdout, msg(l, "  ……另有 %d 行被拒绝\n", "  … and %d more rejected rows\n"), rep.Rejected-int64(len(shown)))
	}
	fmt.Fprintf(stdout, msg(l, "被拒绝的行已写入 %s\n", "every rejected row is listed in %s\n"), reportPath)
	return 3
}
