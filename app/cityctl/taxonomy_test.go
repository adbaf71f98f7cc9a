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

// taxonomyCtl runs `cityctl [-lang lang] taxonomy args…` in-process
// through runTaxonomy, opening the platform like run does.
func taxonomyCtl(t *testing.T, env []string, lang string, args ...string) (int, string, string) {
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
	code := runTaxonomy(ctx, args, lang, open, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTaxonomySeedImportExport(t *testing.T) {
	t.Parallel()
	env := environments(t)["sqlite"]
	if code, _, errOut := ctl(t, env, "migrate"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := ctl(t, env, "tenant", "onboard", tenantsDir); code != 0 {
		t.Fatal(errOut)
	}
	dir := t.TempDir()
	steps := []struct {
		lang string
		args []string
		code int
		out  string
	}{
		// Onboarding seeded the 2026 scheme into every city and county.
		{"zh-CN", []string{"seed", "450126"}, 0, "按 gb47678-2026 新建 0 个分类，当前版本 1"},
		{"en", []string{"seed", "450126", "--scheme", "gb47678-2026"}, 0, "0 classes created"},
		{"en", []string{"seed", "--scheme", "cjt214-2007", "450181"}, 0, "141 classes created from cjt214-2007, current version 2"},
		{"en", []string{"export", "450126", filepath.Join(dir, "binyang.xlsx")}, 0, "of version 1 to"},
		{"en", []string{"import", "450100", filepath.Join(dir, "binyang.xlsx")}, 0, "equals the current version 1"},
		{"en", []string{"export", "450100", filepath.Join(dir, "nanning.csv"), "--kind", "event"}, 0, "exported"},
		{"en", []string{"import", "450100", filepath.Join(dir, "nanning.csv")}, 0, "equals the current version 1"},
		{"en", []string{"seed", "999999"}, 1, ""},
	}
	for _, s := range steps {
		code, out, errOut := taxonomyCtl(t, env, s.lang, s.args...)
		if code != s.code || !strings.Contains(out, s.out) {
			t.Fatalf("taxonomy %v: %d\n%s\n%s", s.args, code, out, errOut)
		}
	}

	// A bad file: every problem printed with its line, nothing written.
	bad := filepath.Join(dir, "bad.csv")
	content := "大类代码,大类名称,小类代码,小类名称,立案条件编码,立案条件,处置时限 A,处置时限 B,处置时限 C,结案条件,紧急程度,备注\n" +
		"06,市容环境类,06001,私搭乱建,0600101,违建,4周,,,,,\n" +
		"06,市容环境类,0603301,细类,,,,,,,,\n" +
		"06,市容环境类,06010,暴露垃圾,,,,,,,,\n"
	if err := os.WriteFile(bad, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := taxonomyCtl(t, env, "zh-CN", "import", "450126", bad, "--kind", "event")
	if code != 1 || !strings.Contains(errOut, "发现 2 个问题，未写入任何数据") || !strings.Contains(errOut, "第 2 行「处置时限 A」列") ||
		!strings.Contains(errOut, "第 3 行「小类代码」列") {
		t.Fatalf("bad file: %d\n%s", code, errOut)
	}
	code, _, errOut = taxonomyCtl(t, env, "en", "import", "450126", bad, "--kind", "event", "--dry-run")
	if code != 1 || !strings.Contains(errOut, "line 2, column 处置时限 A") {
		t.Fatalf("dry run: %d\n%s", code, errOut)
	}
	code, out, errOut := taxonomyCtl(t, env, "en", "import", "450126", bad, "--kind", "event", "--skip-bad")
	if code != 0 || !strings.Contains(errOut, "skipped 2 bad row(s)") || !strings.Contains(out, "imported as version 2: 160 classes, 0 filing conditions") {
		t.Fatalf("skip bad: %d\n%s\n%s", code, out, errOut)
	}

	for _, args := range [][]string{nil, {"seed"}, {"seed", "450126", "extra"}, {"import", "450126"}, {"export", "450126", "x.pdf"},
		{"import", "450126", "x.csv", "--kind", "asset"}, {"purge", "450126"}, {"seed", "450126", "--bogus"}} {
		if code, _, errOut := taxonomyCtl(t, env, "en", args...); code != 2 || !strings.Contains(errOut, "taxonomy seed CODE") {
			t.Errorf("usage %v: %d %s", args, code, errOut)
		}
	}
}
