package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cityops/cityops/app/pkg/sample"
)

// runSample writes a generated territory in the import formats:
//
//	cityctl sample grids CODE FILE.geojson [-cells N] [-seed S] [-patrol N]
//	cityctl sample components CODE FILE.csv [-cells N] [-seed S] [-count N]
//
// The same CODE, -cells and -seed give the same territory, so components
// land in the grids generated for them.
func runSample(_ context.Context, args []string, l string, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, "usage: cityctl sample grids|components CODE FILE [-cells N] [-seed S] [-patrol N] [-count N] [-districts C1,C2]")
		return 2
	}
	if len(args) < 3 || (args[0] != "grids" && args[0] != "components") {
		return usage()
	}
	what, code, file := args[0], args[1], args[2]
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cells := fs.Int("cells", 2000, "unit grids (南宁市 at full size: 32000)")
	seed := fs.Int64("seed", 2026, "random seed")
	patrol := fs.Int("patrol", 0, "patrol grids (default: one per 320 unit grids)")
	count := fs.Int("count", 20000, "components (南宁市 at full size: 1250000)")
	districts := fs.String("districts", "", "comma-separated district codes (default: the tenant's own, or 南宁市's districts for 450100)")
	if err := fs.Parse(args[3:]); err != nil {
		return 2
	}
	if len(code) != 6 {
		return usage()
	}
	ds := sample.DefaultDistricts(code)
	if *districts != "" {
		ds = strings.Split(*districts, ",")
	}
	if *patrol == 0 {
		*patrol = max(1, *cells/320)
	}
	t, err := sample.Generate(sample.Options{Seed: *seed, Cells: *cells, Districts: ds, PatrolGrids: *patrol, Departments: sample.DefaultDepartments(code)})
	if err != nil {
		fmt.Fprintln(stderr, "cityctl:", err)
		return 1
	}
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(stderr, "cityctl:", err)
		return 1
	}
	defer f.Close()
	if what == "grids" {
		err = t.WriteGrids(f)
	} else {
		err = t.WriteComponents(f, *seed, *count)
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(stderr, "cityctl:", err)
		return 1
	}
	if what == "grids" {
		fmt.Fprintf(stdout, msg(l, "已生成 %d 个单元网格、%d 个社区、%d 个街道、%d 个监督网格：%s\n",
			"wrote %d unit grids, %d communities, %d streets, %d patrol grids: %s\n"),
			len(t.Grids), len(t.Communities), len(t.Streets), len(t.Patrol), file)
	} else {
		fmt.Fprintf(stdout, msg(l, "已生成 %d 个部件：%s\n", "wrote %d components: %s\n"), *count, file)
	}
	return 0
}
