package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/pkg/apierr"
	"github.com/cityops/cityops/app/platform/admin"
)

// gridUsage is the usage of the grid subcommands.
const gridUsage = `Usage:
  cityctl [-conf FILE] [-lang zh-CN|en] grid import CODE FILE.geojson [--replace] [--tolerance M2] [--dry-run]
        validate and load a tenant's streets, communities, unit, patrol and responsibility grids
  cityctl [-conf FILE] [-lang zh-CN|en] grid export CODE FILE.geojson   write them as one FeatureCollection ("-": stdout)
  cityctl [-conf FILE] [-lang zh-CN|en] grid locate CODE LON LAT [--crs WGS84|CGCS2000|GCJ02]
  cityctl [-conf FILE] [-lang zh-CN|en] grid coverage CODE [--tolerance M2]
`

// gridArgs splits args into positionals and the flags the grid commands
// know, which may come anywhere (operators type them after the file).
type gridArgs struct {
	pos       []string
	replace   bool
	dryRun    bool
	tolerance float64
	crs       string
}

func parseGridArgs(args []string) (gridArgs, error) {
	var g gridArgs
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" || isNumber(a) {
			g.pos = append(g.pos, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag --%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		switch name {
		case "replace":
			g.replace = true
		case "dry-run":
			g.dryRun = true
		case "tolerance":
			v, err := value()
			if err != nil {
				return g, err
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return g, fmt.Errorf("--tolerance takes an area in m², got %q", v)
			}
			g.tolerance = f
		case "crs":
			v, err := value()
			if err != nil {
				return g, err
			}
			g.crs = v
		default:
			return g, fmt.Errorf("unknown flag %s", a)
		}
	}
	return g, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// runGrid runs `cityctl grid …` (args are what follows "grid") and returns
// the exit code: 0 done, 1 refused or failed (problems are listed), 2 on a
// usage error. open opens the platform's database only once the arguments
// are known to be right.
func runGrid(ctx context.Context, args []string, l string, open func() (*admin.Admin, func(), bool), stdout, stderr io.Writer) int {
	g, err := parseGridArgs(args)
	if err != nil || len(g.pos) < 2 {
		if err != nil {
			fmt.Fprintln(stderr, "cityctl: grid:", err)
		}
		fmt.Fprint(stderr, gridUsage)
		return 2
	}
	cmd, code := g.pos[0], g.pos[1]
	want := map[string]int{"import": 3, "export": 3, "locate": 4, "coverage": 2}
	n, known := want[cmd]
	if !known || len(g.pos) != n {
		fmt.Fprint(stderr, gridUsage)
		return 2
	}
	var lon, lat float64
	if cmd == "locate" {
		var err1, err2 error
		lon, err1 = strconv.ParseFloat(g.pos[2], 64)
		lat, err2 = strconv.ParseFloat(g.pos[3], 64)
		if err1 != nil || err2 != nil {
			fmt.Fprintln(stderr, msg(l, "cityctl: 经纬度应为数字", "cityctl: longitude and latitude must be numbers"))
			return 2
		}
	}
	a, closeFn, ok := open()
	if !ok {
		return 1
	}
	defer closeFn()
	fail := func(what string, err error) int {
		fmt.Fprintf(stderr, "cityctl: grid %s: %s\n", what, localizeGridErr(err, l))
		return 1
	}
	switch cmd {
	case "import":
		return gridImport(ctx, a, code, g.pos[2], g, l, stdout, stderr)
	case "export":
		return gridExport(ctx, a, code, g.pos[2], l, stdout, stderr)
	case "locate":
		loc, err := a.LocateGrid(ctx, code, lon, lat, g.crs)
		if err != nil {
			return fail("locate", err)
		}
		printLocation(stdout, loc, l)
		return 0
	default:
		cov, err := a.GridCoverageOf(ctx, code, g.tolerance)
		if err != nil {
			return fail("coverage", err)
		}
		printCoverage(stdout, cov, l)
		return 0
	}
}

// localizeGridErr renders err in l with the registry's reasons known
// (OUTSIDE_JURISDICTION, GRID_NOT_FOUND …) besides the common ones.
func localizeGridErr(err error, l string) string {
	return apierr.NewLocalizer(registryv1.ErrorReasonMessage).Localize(err, l, "").Message
}

// countingReader counts the bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func gridImport(ctx context.Context, a *admin.Admin, code, path string, g gridArgs, l string, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(stderr, "cityctl: grid import:", err)
		return 1
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		fmt.Fprintln(stderr, "cityctl: grid import:", err)
		return 1
	}
	// The file is streamed, so the number of features is known only at the
	// end: the bar follows the bytes read, the line counts features/s.
	cr := &countingReader{r: f}
	size := max(info.Size(), 1)
	start, last := time.Now(), time.Time{}
	progress := func(p admin.GridProgress) {
		now := time.Now()
		rate := float64(p.Features) / max(now.Sub(start).Seconds(), 1e-3)
		switch p.Phase {
		case "read":
			if now.Sub(last) < 200*time.Millisecond && cr.n < size {
				return
			}
			last = now
			fmt.Fprintf(stdout, "%s %3d%%  %d %s  %.0f %s\n", bar(int(min(cr.n, size)), int(size), 20), min(cr.n, size)*100/size,
				p.Features, msg(l, "个要素", "features"), rate, msg(l, "要素/秒", "features/s"))
		case "check":
			fmt.Fprintf(stdout, msg(l, "已读取 %d 个要素（%.0f 要素/秒），正在检查编码、重叠与覆盖 …\n",
				"read %d features (%.0f features/s); checking codes, overlaps and coverage …\n"), p.Features, rate)
		case "write":
			fmt.Fprintln(stdout, msg(l, "校验通过，正在写入 …", "valid; writing …"))
		}
	}
	rep, err := a.ImportGrids(ctx, code, cr, path, admin.GridImportOptions{Replace: g.replace, ToleranceM2: g.tolerance, DryRun: g.dryRun, Progress: progress})
	if err != nil {
		fmt.Fprintf(stderr, "cityctl: grid import: %s\n", localizeGridErr(err, l))
		return 1
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintf(stderr, msg(l, "发现 %d 个问题，未写入任何数据：\n", "%d problem(s) found; nothing was written:\n"), len(rep.Problems))
		for _, p := range rep.Problems {
			fmt.Fprintln(stderr, "  "+p.Localize(l))
		}
		return 1
	}
	u, r, w := rep.UnitGrids, rep.Regions, rep.WorkGrids
	verb := msg(l, "完成", "done")
	if rep.DryRun {
		verb = msg(l, "试运行（未写入）", "dry run (nothing written)")
	}
	fmt.Fprintf(stdout, msg(l, "%s：%d 个要素，用时 %.1f 秒；单元网格 新建 %d、新版本 %d、关闭 %d、未变 %d；街道/社区 新建 %d、更新 %d；工作网格 新建 %d、更新 %d；网格版本 %d\n",
		"%s: %d features in %.1f s; unit grids %d created, %d new versions, %d closed, %d unchanged; regions %d created, %d updated; work grids %d created, %d updated; grid revision %d\n"),
		verb, rep.Features, time.Since(start).Seconds(), u.Created, u.Updated, u.Closed, u.Unchanged, r.Created, r.Updated, w.Created, w.Updated, rep.Revision)
	if len(rep.Stale) > 0 {
		fmt.Fprintf(stdout, msg(l, "文件中已没有、但仍保留的区域和工作网格：%s\n", "regions and work grids no longer in the file (kept): %s\n"), strings.Join(rep.Stale, ", "))
	}
	if rep.Coverage != nil {
		printCoverage(stdout, rep.Coverage, l)
	}
	return 0
}

func gridExport(ctx context.Context, a *admin.Admin, code, path, l string, stdout, stderr io.Writer) int {
	var w io.Writer = stdout
	var f *os.File
	if path != "-" {
		var err error
		if f, err = os.Create(path); err != nil {
			fmt.Fprintln(stderr, "cityctl: grid export:", err)
			return 1
		}
		w = f
	}
	n, err := a.ExportGrids(ctx, code, w)
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "cityctl: grid export: %s\n", localizeGridErr(err, l))
		return 1
	}
	if f != nil {
		fmt.Fprintf(stdout, msg(l, "已导出 %d 个要素到 %s\n", "exported %d features to %s\n"), n, path)
	}
	return 0
}

func printLocation(w io.Writer, loc *admin.GridLocation, l string) {
	fmt.Fprintf(w, msg(l, "单元网格 %s\n社区 %s %s\n街道 %s %s\n区县 %s\n区域类别 %s\n", "unit grid %s\ncommunity %s %s\nstreet %s %s\ndistrict %s\narea class %s\n"),
		loc.UnitGridCode, loc.CommunityCode, loc.CommunityName, loc.StreetCode, loc.StreetName, loc.DistrictCode, loc.AreaClass)
	fmt.Fprintf(w, msg(l, "监督网格 %s\n", "patrol grids %s\n"), strings.Join(loc.PatrolGrids, ", "))
	var rs []string
	for _, r := range loc.ResponsibilityGrids {
		rs = append(rs, r.Code+" ("+r.DepartmentCode+")")
	}
	fmt.Fprintf(w, msg(l, "责任网格 %s\nWGS84 %.7f, %.7f（网格版本 %d）\n", "responsibility grids %s\nWGS84 %.7f, %.7f (grid revision %d)\n"),
		strings.Join(rs, ", "), loc.Lon, loc.Lat, loc.Revision)
}

func printCoverage(w io.Writer, c *admin.GridCoverage, l string) {
	src := map[string]string{"communities": msg(l, "社区边界合并", "union of the communities"), "outline": msg(l, "单元网格凸包", "convex hull of the unit grids")}[c.Territory]
	pct := 0.0
	if c.TerritoryAreaM2 > 0 {
		pct = 100 * c.CoveredAreaM2 / c.TerritoryAreaM2
	}
	fmt.Fprintf(w, msg(l, "覆盖：辖区（%s）%.0f 平方米，单元网格 %d 个覆盖 %.0f 平方米（%.2f%%）；缺口 %d 处，重叠 %d 处\n",
		"coverage: territory (%s) %.0f m², %d unit grids cover %.0f m² (%.2f%%); %d gap(s), %d overlap(s)\n"),
		src, c.TerritoryAreaM2, c.UnitGrids, c.CoveredAreaM2, pct, len(c.Gaps), len(c.Overlaps))
	for _, g := range c.Gaps {
		fmt.Fprintf(w, msg(l, "  缺口 %.1f 平方米，位于 %.6f, %.6f\n", "  gap of %.1f m² at %.6f, %.6f\n"), g.AreaM2, g.SampleLon, g.SampleLat)
	}
	for _, o := range c.Overlaps {
		fmt.Fprintf(w, msg(l, "  重叠 %s × %s %.1f 平方米\n", "  overlap %s × %s %.1f m²\n"), o.A, o.B, o.AreaM2)
	}
}
