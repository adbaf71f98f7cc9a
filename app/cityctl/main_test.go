package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/pkg/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

const tenantsDir = "../../tenants"

// ctl runs cityctl in-process and returns its exit code and output.
func ctl(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, env, &out, &errOut)
	return code, out.String(), errOut.String()
}

// copyTree copies the sample manifests so a test can break them.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "tenants")
	err := filepath.WalkDir(tenantsDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(tenantsDir, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func environments(t *testing.T) map[string][]string {
	sqlite := "file:" + filepath.Join(t.TempDir(), "ctl.db") + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
	// Each environment keeps its secrets (first admin passwords, the token
	// key ring) in a private file, never in the source tree.
	secretsFile := func() string { return "CITYOPS_SECRETS_FILE=" + filepath.Join(t.TempDir(), "secrets.json") }
	return map[string][]string{
		"sqlite":   {"CITYOPS_DB_DRIVER=sqlite", "CITYOPS_DB_DSN=" + sqlite, "LANG=zh_CN.UTF-8", secretsFile()},
		"postgres": {"CITYOPS_DB_DRIVER=postgres", "CITYOPS_DB_DSN=" + testdb.EmptyPostgresDSN(t), "LANG=zh_CN.UTF-8", secretsFile()},
	}
}

func TestMigrateOnboardTree(t *testing.T) {
	t.Parallel()
	for name, env := range environments(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if code, _, errOut := ctl(t, env, "migrate", "status"); code != 3 {
				t.Fatalf("status before migrating: exit %d, want 3 (pending): %s", code, errOut)
			}
			code, out, errOut := ctl(t, env, "migrate")
			if code != 0 || !strings.Contains(out, "迁移") {
				t.Fatalf("migrate: %d %s %s", code, out, errOut)
			}
			if code, out, _ := ctl(t, env, "-lang", "en", "migrate"); code != 0 || !strings.Contains(out, "up to date") {
				t.Fatalf("second migrate: %d %s", code, out)
			}
			code, out, errOut = ctl(t, env, "tenant", "onboard", tenantsDir)
			if code != 0 || !strings.Contains(out, "新建 5") || !strings.Contains(out, "5/5") {
				t.Fatalf("onboard: %d\n%s\n%s", code, out, errOut)
			}
			code, out, _ = ctl(t, env, "-lang", "en", "tenant", "onboard", tenantsDir)
			if code != 0 || !strings.Contains(out, "5 unchanged") || !strings.Contains(out, "departments 0 created, 0 updated") {
				t.Fatalf("second onboard must change nothing: %d\n%s", code, out)
			}
			code, out, _ = ctl(t, env, "tenant", "tree")
			for _, want := range []string{"000000 全国", "└── 450000 广西壮族自治区", "450126 宾阳县 (binyang, county)", "450181 横州市"} {
				if code != 0 || !strings.Contains(out, want) {
					t.Fatalf("tree lacks %q:\n%s", want, out)
				}
			}
			// A changed name in a manifest is an update.
			dir := copyTree(t)
			p := filepath.Join(dir, "binyang", "tenant.yaml")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte("zh: 宾阳县"), []byte("zh: 宾阳县（测试）"), 1), 0o644)
			code, out, errOut = ctl(t, env, "-lang", "en", "tenant", "onboard", dir)
			if code != 0 || !strings.Contains(out, "1 updated") {
				t.Fatalf("rename: %d\n%s\n%s", code, out, errOut)
			}
			// One tenant directory on its own, under a parent onboarded before.
			code, out, errOut = ctl(t, env, "-lang", "en", "tenant", "onboard", filepath.Join(tenantsDir, "hengzhou"))
			if code != 0 || !strings.Contains(out, "1 tenants") {
				t.Fatalf("single dir: %d\n%s\n%s", code, out, errOut)
			}
			if code, _, errOut := ctl(t, env, "tenant", "tree", "999999"); code != 1 || !strings.Contains(errOut, "租户 999999 不存在") {
				t.Fatalf("unknown root: %d %s", code, errOut)
			}
		})
	}
}

func TestOnboardRefusesBadManifestsAndWritesNothing(t *testing.T) {
	t.Parallel()
	env := environments(t)["sqlite"]
	if code, _, errOut := ctl(t, env, "migrate"); code != 0 {
		t.Fatal(errOut)
	}
	cases := []struct {
		name    string
		file    string
		from    string
		to      string
		want    []string
		wantErr string
	}{
		{"county under county", "hengzhou/tenant.yaml", `parent: "450100"`, `parent: "450126"`,
			[]string{"hengzhou/tenant.yaml:", "parent"}, ""},
		{"unknown parent", "binyang/tenant.yaml", `parent: "450100"`, `parent: "450999"`,
			[]string{"binyang/tenant.yaml:", "450999"}, ""},
		{"unknown field", "binyang/tenant.yaml", "slug: binyang", "slug: binyang\ncolour: red", []string{"colour"}, ""},
		{"empty name", "binyang/tenant.yaml", "zh: 宾阳县", `zh: ""`, []string{"name.zh"}, ""},
		{"inconsistent code", "binyang/tenant.yaml", `code: "450126"`, `code: "450226"`, []string{"binyang/tenant.yaml:"}, ""},
	}
	for _, c := range cases {
		dir := copyTree(t)
		p := filepath.Join(dir, c.file)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(c.from)) {
			t.Fatalf("%s: %s does not contain %q", c.name, c.file, c.from)
		}
		os.WriteFile(p, bytes.Replace(b, []byte(c.from), []byte(c.to), 1), 0o644)
		for _, lang := range []string{"zh-CN", "en"} {
			code, _, errOut := ctl(t, env, "-lang", lang, "tenant", "onboard", dir)
			if code != 1 {
				t.Fatalf("%s: exit %d, want 1\n%s", c.name, code, errOut)
			}
			head := "未写入任何数据"
			if lang == "en" {
				head = "nothing was written"
			}
			if !strings.Contains(errOut, head) {
				t.Errorf("%s (%s): no summary line:\n%s", c.name, lang, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("%s (%s): output lacks %q:\n%s", c.name, lang, w, errOut)
				}
			}
		}
	}
	// Nothing of any refused tree was written.
	if code, _, errOut := ctl(t, env, "tenant", "tree"); code != 1 || !strings.Contains(errOut, "000000") {
		t.Fatalf("tree after refused onboards must not exist: %d %s", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	if code, _, errOut := ctl(t, nil); code != 2 || !strings.Contains(errOut, "Usage") {
		t.Fatalf("no args: %d %s", code, errOut)
	}
	if code, _, _ := ctl(t, nil, "frobnicate"); code != 2 {
		t.Fatalf("unknown command: %d", code)
	}
}
