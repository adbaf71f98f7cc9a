package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/platform/admin"
)

// gridCtl runs `cityctl [-lang lang] grid args…` in-process through
// runGrid, opening the platform like run does.
func gridCtl(t *testing.T, env []string, lang string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx := context.Background()
	open := func() (*admin.Admin, func(), bool) {
		a, closeFn, err := admin.Open(ctx, "", env)
		if err != nil {
			fmt.Fprintln(&errOut, "cityctl:", err)
			return nil, nil, false
		}
		return a, closeFn, true
	}
	code := runGrid(ctx, args, lang, open, &out, &errOut)
	return code, out.String(), errOut.String()
}

// twoGrids is a street, a community and two unit grids of 宾阳县 side by side.
func twoGrids(county string) string {
	cell := func(code string, lon float64) string {
		return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[%[2]g,23.2],[%[3]g,23.2],[%[3]g,23.201],[%[2]g,23.201],[%[2]g,23.2]]]},"properties":{"kind":"unit","code":"%[1]s","area_class":"A"}}`,
			code, lon, lon+0.001)
	}
	return `{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":null,"properties":{"kind":"street","code":"` + county + `001","name":"宾州镇"}},
{"type":"Feature","geometry":null,"properties":{"kind":"community","code":"` + county + `001001","name":"城东社区"}},
` + cell(county+"001001001", 108.8) + ",\n" + cell(county+"001001002", 108.801) + "]}"
}

func TestGridCommands(t *testing.T) {
	t.Parallel()
	env := environments(t)["sqlite"]
	if code, _, errOut := ctl(t, env, "migrate"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := ctl(t, env, "tenant", "onboard", tenantsDir); code != 0 {
		t.Fatal(errOut)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "grids.geojson")
	if err := os.WriteFile(file, []byte(twoGrids("450126")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := gridCtl(t, env, "zh-CN", "import", "450126", file, "--tolerance", "2")
	if code != 0 || !strings.Contains(out, "单元网格 新建 2") || !strings.Contains(out, "要素/秒") || !strings.Contains(out, "100%") {
		t.Fatalf("import: %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = gridCtl(t, env, "en", "import", "450126", file, "--replace")
	if code != 0 || !strings.Contains(out, "2 unchanged") || !strings.Contains(out, "grid revision 1") {
		t.Fatalf("re-import: %d\n%s", code, out)
	}
	code, out, errOut = gridCtl(t, env, "en", "locate", "450126", "108.8015", "23.2005")
	if code != 0 || !strings.Contains(out, "unit grid 450126001001002") || !strings.Contains(out, "城东社区") {
		t.Fatalf("locate: %d\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = gridCtl(t, env, "en", "locate", "450126", "108.79", "23.2005", "--crs", "GCJ02")
	if code != 1 || !strings.Contains(errOut, "450126001001001") {
		t.Fatalf("locate outside: %d\n%s", code, errOut)
	}
	code, out, _ = gridCtl(t, env, "en", "coverage", "450126")
	if code != 0 || !strings.Contains(out, "convex hull") || !strings.Contains(out, "0 gap(s)") {
		t.Fatalf("coverage: %d\n%s", code, out)
	}
	exported := filepath.Join(dir, "export.geojson")
	if code, out, errOut := gridCtl(t, env, "en", "export", "450126", exported); code != 0 || !strings.Contains(out, "exported 4 features") {
		t.Fatalf("export: %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := gridCtl(t, env, "en", "import", "450126", exported, "--replace"); code != 0 || !strings.Contains(out, "2 unchanged") {
		t.Fatalf("re-import of the export: %d\n%s", code, out)
	}
	// Another county's codes: every problem listed, nothing written, exit 1.
	bad := filepath.Join(dir, "bad.geojson")
	if err := os.WriteFile(bad, []byte(twoGrids("450127")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = gridCtl(t, env, "zh-CN", "import", "450126", bad)
	if code != 1 || !strings.Contains(errOut, "未写入任何数据") || strings.Count(errOut, "450127") < 4 {
		t.Fatalf("bad import: %d\n%s", code, errOut)
	}
	if code, _, errOut := gridCtl(t, env, "en", "import", "450126"); code != 2 || !strings.Contains(errOut, "Usage") {
		t.Fatalf("usage: %d %s", code, errOut)
	}
	if code, _, _ := gridCtl(t, env, "en", "locate", "450126", "x", "y"); code != 2 {
		t.Fatalf("bad numbers: %d", code)
	}
	if code, _, errOut := gridCtl(t, env, "en", "coverage", "999999"); code != 1 || errOut == "" {
		t.Fatalf("unknown tenant: %d %s", code, errOut)
	}
}
