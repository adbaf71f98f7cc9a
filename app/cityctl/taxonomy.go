package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cityops/cityops/app/pkg/apierr"
	"github.com/cityops/cityops/app/platform/admin"
)

// taxonomyUsage is the usage of the taxonomy subcommands.
const taxonomyUsage = `Usage:
  cityctl [-conf FILE] [-lang zh-CN|en] taxonomy seed CODE [--scheme gb47678-2026|cjt214-2007]
        copy a national classification scheme into tenant CODE (idempotent)
  cityctl [-conf FILE] [-lang zh-CN|en] taxonomy import CODE FILE.csv|FILE.xlsx [--kind component|event] [--skip-bad] [--dry-run]
        check every row, then write the table as the tenant's next taxonomy version;
        a bad row rejects the file (nothing written) unless --skip-bad
  cityctl [-conf FILE] [-lang zh-CN|en] taxonomy export CODE FILE.csv|FILE.xlsx [--kind component|event]
        write the tenant's current taxonomy as a classification table
`

// taxonomyArgs are the parsed arguments of a taxonomy subcommand.
type taxonomyArgs struct {
	verb, code, file string
	scheme, kind     string
	skipBad, dryRun  bool
}

// parseTaxonomyArgs reads flags given before, between or after the
// positional arguments (people type `import 450126 table.csv --skip-bad`).
func parseTaxonomyArgs(args []string, stderr io.Writer) (taxonomyArgs, bool) {
	var a taxonomyArgs
	fs := flag.NewFlagSet("taxonomy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.scheme, "scheme", admin.TaxonomySchemeGB47678, "national scheme to seed")
	fs.StringVar(&a.kind, "kind", "", "kind of rows in a file without a 类别 column, or the kind to export")
	fs.BoolVar(&a.skipBad, "skip-bad", false, "import the good rows and report the bad ones")
	fs.BoolVar(&a.dryRun, "dry-run", false, "check the file only")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			fmt.Fprintln(stderr, "cityctl: taxonomy:", err)
			return a, false
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) < 2 {
		return a, false
	}
	a.verb, a.code = pos[0], pos[1]
	switch {
	case a.verb == "seed" && len(pos) == 2:
	case (a.verb == "import" || a.verb == "export") && len(pos) == 3:
		a.file = pos[2]
	default:
		return a, false
	}
	if a.kind != "" && a.kind != "component" && a.kind != "event" {
		return a, false
	}
	return a, true
}

// taxonomyFormatOf is the table format a file name asks for.
func taxonomyFormatOf(file string) string {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".csv":
		return "csv"
	case ".xlsx":
		return "xlsx"
	}
	return ""
}

// runTaxonomy runs `cityctl taxonomy …` (args are what follows
// "taxonomy") and returns the exit code: 0 on success, 1 when the work
// failed or the file was rejected (every problem printed), 2 on a usage
// error. open opens the platform's database only once the arguments are
// known to be right.
func runTaxonomy(ctx context.Context, args []string, l string, open func() (*admin.Admin, func(), bool), stdout, stderr io.Writer) int {
	a, ok := parseTaxonomyArgs(args, stderr)
	if ok && a.file != "" && taxonomyFormatOf(a.file) == "" {
		fmt.Fprintf(stderr, msg(l, "cityctl: 文件 %s 应以 .csv 或 .xlsx 结尾\n", "cityctl: file %s must end in .csv or .xlsx\n"), a.file)
		ok = false
	}
	if !ok {
		fmt.Fprint(stderr, taxonomyUsage)
		return 2
	}
	var data []byte
	if a.verb == "import" {
		var err error
		if data, err = readTaxonomyTable(a.file); err != nil {
			fmt.Fprintln(stderr, "cityctl: taxonomy import:", err)
			return 1
		}
	}
	adm, closeFn, opened := open()
	if !opened {
		return 1
	}
	defer closeFn()
	localize := func(err error) string { return apierr.NewLocalizer().Localize(err, l, "").Message }
	switch a.verb {
	case "seed":
		created, version, err := adm.SeedTaxonomy(ctx, a.code, a.scheme)
		if err != nil {
			fmt.Fprintln(stderr, "cityctl: taxonomy seed:", localize(err))
			return 1
		}
		fmt.Fprintf(stdout, msg(l, "租户 %s 的分类体系：按 %s 新建 %d 个分类，当前版本 %d\n",
			"tenant %s taxonomy: %d classes created from %s, current version %d\n"), taxonomySeedArgs(l, a.code, a.scheme, created, version)...)
		return 0
	case "import":
		res, err := adm.ImportTaxonomy(ctx, a.code, data, taxonomyFormatOf(a.file),
			admin.TaxonomyImportOptions{DefaultKind: a.kind, SkipBad: a.skipBad, DryRun: a.dryRun})
		var probs admin.TaxonomyProblems
		if err != nil {
			if errors.As(err, &probs) {
				fmt.Fprintf(stderr, msg(l, "%s：发现 %d 个问题，未写入任何数据：\n", "%s: %d problem(s) found; nothing was written:\n"), a.file, len(probs))
				printTaxonomyProblems(stderr, probs, l)
				return 1
			}
			fmt.Fprintln(stderr, "cityctl: taxonomy import:", localize(err))
			return 1
		}
		if len(res.Problems) > 0 {
			if a.dryRun {
				fmt.Fprintf(stderr, msg(l, "%s：发现 %d 个问题：\n", "%s: %d problem(s) found:\n"), a.file, len(res.Problems))
			} else {
				fmt.Fprintf(stderr, msg(l, "%s：跳过 %d 个有问题的行：\n", "%s: skipped %d bad row(s):\n"), a.file, len(res.Problems))
			}
			printTaxonomyProblems(stderr, res.Problems, l)
		}
		switch {
		case a.dryRun:
			fmt.Fprintf(stdout, msg(l, "校验完成：%d 个分类、%d 个立案条件，未写入任何数据\n", "checked: %d classes, %d filing conditions; nothing was written\n"), res.Classes, res.Conditions)
			if len(res.Problems) > 0 {
				return 1
			}
		case res.Unchanged:
			fmt.Fprintf(stdout, msg(l, "文件与当前版本 %d 相同，未新建版本\n", "the file equals the current version %d; no version was created\n"), res.Version)
		default:
			fmt.Fprintf(stdout, msg(l, "已导入为版本 %d：%d 个分类、%d 个立案条件\n", "imported as version %d: %d classes, %d filing conditions\n"), res.Version, res.Classes, res.Conditions)
		}
		return 0
	case "export":
		out, err := adm.ExportTaxonomy(ctx, a.code, taxonomyFormatOf(a.file), a.kind)
		if err != nil {
			fmt.Fprintln(stderr, "cityctl: taxonomy export:", localize(err))
			return 1
		}
		if err := os.WriteFile(a.file, out.Data, 0o644); err != nil {
			fmt.Fprintln(stderr, "cityctl: taxonomy export:", err)
			return 1
		}
		fmt.Fprintf(stdout, msg(l, "已导出版本 %d 的 %d 行到 %s\n", "exported %d rows of version %d to %s\n"), taxonomyExportArgs(l, out.Version, out.Rows, a.file)...)
		return 0
	}
	fmt.Fprint(stderr, taxonomyUsage)
	return 2
}

// readTaxonomyTable reads an import file, refusing one larger than the API would
// take before reading it whole.
func readTaxonomyTable(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	const max = 4 << 20
	if st.Size() > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return os.ReadFile(path)
}

func printTaxonomyProblems(w io.Writer, ps admin.TaxonomyProblems, l string) {
	for _, p := range ps {
		fmt.Fprintln(w, "  "+p.Localize(l))
	}
}

// taxonomySeedArgs orders the values as each language's sentence names them.
func taxonomySeedArgs(l, code, scheme string, created, version int) []any {
	if l == apierr.EN {
		return []any{code, created, scheme, version}
	}
	return []any{code, scheme, created, version}
}

func taxonomyExportArgs(l string, version, rows int, file string) []any {
	if l == apierr.EN {
		return []any{rows, version, file}
	}
	return []any{version, rows, file}
}
