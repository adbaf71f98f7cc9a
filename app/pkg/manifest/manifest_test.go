package manifest

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cityops/cityops/app/pkg/region"
)

// loc is what the tests assert about a problem: where it is and which field.
type loc struct {
	File  string
	Line  int
	Field string
}

// problemsOf unwraps the Problems of err and checks that every one of them
// carries both a Chinese and an English message.
func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	if err == nil {
		return nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error is %T (%v), want Problems", err, err)
	}
	for _, p := range ps {
		if !strings.ContainsFunc(p.ZH, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			t.Errorf("%s: zh message %q has no Chinese text", p.Localize("en"), p.ZH)
		}
		if p.EN == "" || p.EN == p.ZH {
			t.Errorf("%s: en message %q is empty or not translated", p.Localize("zh-CN"), p.EN)
		}
	}
	return ps
}

func locsOf(ps Problems) []loc {
	var out []loc
	for _, p := range ps {
		out = append(out, loc{p.File, p.Line, p.Field})
	}
	return out
}

func sortLocs(ls []loc) []loc {
	ls = slices.Clone(ls)
	slices.SortFunc(ls, func(a, b loc) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Field, b.Field)
	})
	return ls
}

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

// binyang is a valid county manifest; the line numbers in the tests below
// refer to copies of it.
const binyang = `code: "450126"
slug: binyang
name:
  zh: 宾阳县
  en: Binyang County
level: county
parent: "450100"
`

const departments = `departments:
  - code: BY-CGJ
    name:
      zh: 宾阳县城市管理局
      en: Binyang County Urban Management Bureau
    kind: government
    contacts:
      - name: 郭琳
        title: 值班员
        phone: 0771-5550301
  - code: BY-BZZ
    name: {zh: 宾州镇人民政府}
    kind: district
`

func TestLoadTenantProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		dir   string // default binyang
		files map[string]string
		want  []loc // File relative to the tenant directory
	}{
		{
			name:  "valid",
			files: map[string]string{TenantFile: binyang, DepartmentsFile: departments},
		},
		{
			name: "valid management area",
			dir:  "gaoxin",
			files: map[string]string{TenantFile: `code: 450100GXQ
slug: gaoxin
name: {zh: 南宁高新区}
level: county
management_area: true
parent: 450100
`},
		},
		{
			name: "malformed YAML",
			files: map[string]string{TenantFile: `code: "450126"
slug: binyang
name: {zh: 宾阳县
level: county
`},
			// yaml.v3 names the line where the unclosed flow mapping starts.
			want: []loc{{TenantFile, 3, ""}},
		},
		{
			name:  "tab indentation",
			files: map[string]string{TenantFile: "code: \"450126\"\nslug: binyang\nname:\n\tzh: 宾阳县\n"},
			want:  []loc{{TenantFile, 4, ""}},
		},
		{
			name:  "empty file",
			files: map[string]string{TenantFile: "# nothing yet\n"},
			want:  []loc{{TenantFile, 0, ""}},
		},
		{
			name:  "missing tenant.yaml",
			files: map[string]string{DepartmentsFile: departments},
			want:  []loc{{TenantFile, 0, ""}},
		},
		{
			name:  "two documents",
			files: map[string]string{TenantFile: binyang + "---\ncode: \"450127\"\n"},
			want:  []loc{{TenantFile, 8, ""}},
		},
		{
			name:  "not a mapping",
			files: map[string]string{TenantFile: "- code: \"450126\"\n"},
			want:  []loc{{TenantFile, 1, ""}},
		},
		{
			name: "unknown top-level field",
			files: map[string]string{TenantFile: binyang + `colour: red
`},
			want: []loc{{TenantFile, 8, "colour"}},
		},
		{
			name: "misspelt field",
			files: map[string]string{TenantFile: binyang + `time-zone: Asia/Shanghai
`},
			want: []loc{{TenantFile, 8, "time-zone"}},
		},
		{
			name: "unknown nested field",
			files: map[string]string{TenantFile: `code: "450126"
slug: binyang
name:
  zh: 宾阳县
  fr: Binyang
level: county
parent: "450100"
`},
			want: []loc{{TenantFile, 5, "name.fr"}},
		},
		{
			name: "repeated field",
			files: map[string]string{TenantFile: binyang + `level: city
`},
			want: []loc{{TenantFile, 8, "level"}},
		},
		{
			name: "alias",
			files: map[string]string{TenantFile: `code: &c "450126"
slug: binyang
name: {zh: 宾阳县}
level: county
parent: *c
`},
			want: []loc{{TenantFile, 5, "parent"}},
		},
		{
			name: "empty zh name",
			files: map[string]string{TenantFile: `code: "450126"
slug: binyang
name:
  zh: ""
  en: Binyang County
level: county
parent: "450100"
`},
			want: []loc{{TenantFile, 4, "name.zh"}},
		},
		{
			name: "blank names",
			files: map[string]string{TenantFile: `code: "450126"
slug: binyang
name:
  zh: "   "
  en:
level: county
parent: "450100"
`},
			// en: with no value counts as absent; zh is required.
			want: []loc{{TenantFile, 4, "name.zh"}},
		},
		{
			name: "missing name",
			files: map[string]string{TenantFile: `code: "450126"
slug: binyang
level: county
parent: "450100"
`},
			want: []loc{{TenantFile, 1, "name"}},
		},
		{
			name: "bad level",
			files: map[string]string{TenantFile: `code: "450126"
slug: binyang
name: {zh: 宾阳县}
level: district
parent: "450100"
`},
			want: []loc{{TenantFile, 4, "level"}},
		},
		{
			name: "code structure contradicts level",
			files: map[string]string{TenantFile: `code: "450100"
slug: binyang
name: {zh: 宾阳县}
level: county
parent: "450000"
`},
			want: []loc{{TenantFile, 4, "level"}},
		},
		{
			name: "malformed code",
			files: map[string]string{TenantFile: `code: 45012
slug: binyang
name: {zh: 宾阳县}
level: county
parent: "450100"
`},
			want: []loc{{TenantFile, 1, "code"}},
		},
		{
			name: "bad time zone",
			files: map[string]string{TenantFile: binyang + `time_zone: Asia/Nanning
`},
			want: []loc{{TenantFile, 8, "time_zone"}},
		},
		{
			name: "server-dependent time zone",
			files: map[string]string{TenantFile: binyang + `time_zone: Local
`},
			want: []loc{{TenantFile, 8, "time_zone"}},
		},
		{
			name:  "slug does not match directory",
			dir:   "hengzhou",
			files: map[string]string{TenantFile: strings.Replace(binyang, "450126", "450181", 1)},
			want:  []loc{{TenantFile, 2, "slug"}},
		},
		{
			name:  "malformed slug",
			files: map[string]string{TenantFile: strings.Replace(binyang, "slug: binyang", "slug: Binyang_1", 1)},
			want:  []loc{{TenantFile, 2, "slug"}},
		},
		{
			name:  "county under a county",
			files: map[string]string{TenantFile: strings.Replace(binyang, `parent: "450100"`, `parent: "450127"`, 1)},
			want:  []loc{{TenantFile, 7, "parent"}},
		},
		{
			name:  "code inconsistent with parent",
			files: map[string]string{TenantFile: strings.Replace(binyang, `parent: "450100"`, `parent: "450200"`, 1)},
			want:  []loc{{TenantFile, 1, "code"}},
		},
		{
			name:  "malformed parent code",
			files: map[string]string{TenantFile: strings.Replace(binyang, `parent: "450100"`, `parent: "4501"`, 1)},
			want:  []loc{{TenantFile, 7, "parent"}},
		},
		{
			name:  "missing parent",
			files: map[string]string{TenantFile: strings.Replace(binyang, `parent: "450100"`+"\n", "", 1)},
			want:  []loc{{TenantFile, 1, "parent"}},
		},
		{
			name: "national with parent",
			dir:  "national",
			files: map[string]string{TenantFile: `code: 000000
slug: national
name: {zh: 全国城市运行管理服务平台}
level: national
parent: 450000
`},
			want: []loc{{TenantFile, 5, "parent"}},
		},
		{
			name:  "management_area is not a boolean",
			files: map[string]string{TenantFile: binyang + "management_area: \"yes\"\n"},
			want:  []loc{{TenantFile, 8, "management_area"}},
		},
		{
			name: "management area not county-level",
			dir:  "gaoxin",
			files: map[string]string{TenantFile: `code: 450100GXQ
slug: gaoxin
name: {zh: 南宁高新区}
level: city
management_area: true
parent: 450000
`},
			want: []loc{{TenantFile, 4, "level"}},
		},
		{
			name:  "bad isolation",
			files: map[string]string{TenantFile: binyang + "isolation: private\n"},
			want:  []loc{{TenantFile, 8, "isolation"}},
		},
		{
			name: "bad admin block",
			files: map[string]string{TenantFile: binyang + `admin:
  login: Admin!
  display_name: 管理员
  password: hunter2
  email: admin@example.org
`},
			want: []loc{
				{TenantFile, 9, "admin.login"},
				{TenantFile, 11, "admin.password"},
				{TenantFile, 12, "admin.email"},
			},
		},
		{
			name: "every problem is reported",
			files: map[string]string{
				TenantFile: `code: "450126"
slug: binyang
name:
  zh: ""
level: District
parent: "450100"
time_zone: Asia/Nanning
colour: red
`,
				DepartmentsFile: `departments:
  - code: BY CGJ
    name: {zh: 宾阳县城市管理局}
    kind: bureau
`,
			},
			want: []loc{
				{TenantFile, 4, "name.zh"},
				{TenantFile, 5, "level"},
				{TenantFile, 7, "time_zone"},
				{TenantFile, 8, "colour"},
				{DepartmentsFile, 2, "departments[0].code"},
				{DepartmentsFile, 4, "departments[0].kind"},
			},
		},

		// departments.yaml
		{
			name: "departments: malformed YAML",
			files: map[string]string{TenantFile: binyang, DepartmentsFile: `departments:
  - code: BY-CGJ
    name: [宾阳县城市管理局
    kind: government
`},
			want: []loc{{DepartmentsFile, 3, ""}},
		},
		{
			name:  "departments: missing list",
			files: map[string]string{TenantFile: binyang, DepartmentsFile: "departmets:\n  - code: BY-CGJ\n"},
			want:  []loc{{DepartmentsFile, 1, "departments"}, {DepartmentsFile, 1, "departmets"}},
		},
		{
			name:  "departments: not a list",
			files: map[string]string{TenantFile: binyang, DepartmentsFile: "departments:\n  code: BY-CGJ\n"},
			want:  []loc{{DepartmentsFile, 2, "departments"}},
		},
		{
			name: "departments: duplicate codes",
			files: map[string]string{TenantFile: binyang, DepartmentsFile: departments + `  - code: BY-CGJ
    name: {zh: 宾阳县城管局}
    kind: government
`},
			want: []loc{{DepartmentsFile, 14, "departments[2].code"}},
		},
		{
			name: "departments: field errors",
			files: map[string]string{TenantFile: binyang, DepartmentsFile: `departments:
  - code: BY-CGJ
    name:
      zh: ""
      en: Urban Management Bureau
    kind: government
    contacts:
      - name: 郭琳
        phone: "0771-555 0301 ext. 2"
      - title: 值班员
        phone: 0771-5550302
        mobile: "13800000000"
  - name: {zh: 宾州镇人民政府}
    kind: town
    contact: []
`},
			want: []loc{
				{DepartmentsFile, 4, "departments[0].name.zh"},
				{DepartmentsFile, 9, "departments[0].contacts[0].phone"},
				{DepartmentsFile, 10, "departments[0].contacts[1].name"},
				{DepartmentsFile, 12, "departments[0].contacts[1].mobile"},
				{DepartmentsFile, 13, "departments[1].code"},
				{DepartmentsFile, 14, "departments[1].kind"},
				{DepartmentsFile, 15, "departments[1].contact"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := "tenants/binyang"
			if tt.dir != "" {
				dir = "tenants/" + tt.dir
			}
			files := make(map[string]string)
			for name, data := range tt.files {
				files[path.Join(dir, name)] = data
			}
			tenant, err := loadTenant(mapFS(files), dir, dir, path.Base(dir))
			ps := problemsOf(t, err)
			var want []loc
			for _, l := range tt.want {
				want = append(want, loc{path.Join(dir, l.File), l.Line, l.Field})
			}
			if diff := cmp.Diff(sortLocs(want), sortLocs(locsOf(ps))); diff != "" {
				t.Errorf("problems (-want +got):\n%s\ngot:\n%s", diff, ps.Localize("en"))
			}
			if (err == nil) != (tenant != nil) {
				t.Errorf("loadTenant returned tenant %v with error %v", tenant, err)
			}
		})
	}
}

// writeTree writes files (paths relative to root) below a new temporary root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestLoadTenantFromDisk(t *testing.T) {
	t.Parallel()
	root := writeTree(t, map[string]string{
		"binyang/" + TenantFile:      binyang + "admin:\n  login: admin\n  password: secret://kv/cityops/tenants/450126/admin\n",
		"binyang/" + DepartmentsFile: departments,
		"binyang/grids.geojson":      "ignored until the grids issue",
	})
	dir := filepath.Join(root, "binyang") + string(filepath.Separator)
	got, err := LoadTenant(dir)
	if err != nil {
		t.Fatalf("LoadTenant: %v", err)
	}
	tf := filepath.Join(dir, TenantFile)
	df := filepath.Join(dir, DepartmentsFile)
	want := &Tenant{
		Dir:            dir,
		Pos:            Pos{tf, 1, 1},
		Code:           "450126",
		Slug:           "binyang",
		NameZH:         "宾阳县",
		NameEN:         "Binyang County",
		Level:          region.County,
		ParentCode:     "450100",
		ManagementArea: false,
		Isolation:      IsolationShared,
		TimeZone:       DefaultTimeZone,
		Admin:          &Admin{Pos: Pos{tf, 9, 3}, Login: "admin", PasswordRef: "secret://kv/cityops/tenants/450126/admin"},
		Departments: []Department{
			{
				Pos: Pos{df, 2, 5}, Code: "BY-CGJ", NameZH: "宾阳县城市管理局", NameEN: "Binyang County Urban Management Bureau",
				Kind:     KindGovernment,
				Contacts: []Contact{{Pos: Pos{df, 8, 9}, Name: "郭琳", Title: "值班员", Phone: "0771-5550301"}},
			},
			{Pos: Pos{df, 11, 5}, Code: "BY-BZZ", NameZH: "宾州镇人民政府", Kind: KindDistrict},
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Tenant{})); diff != "" {
		t.Errorf("LoadTenant (-want +got):\n%s", diff)
	}
	if p := got.FieldPos("parent"); p != (Pos{tf, 7, 9}) {
		t.Errorf("FieldPos(parent) = %v", p)
	}

	// The parent is the caller's business: under 南宁 fine, under 柳州 not.
	if ps := CheckParent(got, &region.Node{Code: "450100", Level: region.City}); len(ps) > 0 {
		t.Errorf("CheckParent(南宁市) = %v", ps)
	}
	ps := CheckParent(got, &region.Node{Code: "450200", Level: region.City})
	if diff := cmp.Diff([]loc{{tf, 1, "code"}}, locsOf(ps)); diff != "" {
		t.Errorf("CheckParent(柳州市) (-want +got):\n%s", diff)
	}
}

func TestLoadTenantMissingDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nowhere")
	_, err := LoadTenant(dir)
	ps := problemsOf(t, err)
	if diff := cmp.Diff([]loc{{filepath.Join(dir, TenantFile), 0, ""}}, locsOf(ps)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// Tenants for tree tests.
const (
	national = `code: 000000
slug: national
name: {zh: 全国城市运行管理服务平台}
level: national
`
	guangxi = `code: 450000
slug: guangxi
name: {zh: 广西壮族自治区}
level: province
parent: 000000
`
	nanning = `code: 450100
slug: nanning
name: {zh: 南宁市}
level: city
parent: 450000
`
	liuzhou = `code: 450200
slug: liuzhou
name: {zh: 柳州市}
level: city
parent: 450000
`
	hengzhou = `code: 450181
slug: hengzhou
name: {zh: 横州市}
level: county
parent: 450100
`
)

func tenant(slug, code, level, parent string) string {
	s := "code: " + code + "\nslug: " + slug + "\nname: {zh: 测试}\nlevel: " + level + "\n"
	if parent != "" {
		s += "parent: " + parent + "\n"
	}
	return s
}

func TestLoadTreeProblems(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"national": national, "guangxi": guangxi, "nanning": nanning, "binyang": binyang,
	}
	tests := []struct {
		name  string
		dirs  map[string]string // directory → tenant.yaml; nil values remove a base entry
		extra map[string]string // other files, path relative to the root
		known map[string]region.Node
		want  []loc    // File relative to the root
		order []string // slugs, when there is no problem
	}{
		{
			name:  "valid",
			order: []string{"national", "guangxi", "nanning", "binyang"},
		},
		{
			name: "unknown parent code",
			dirs: map[string]string{"nanning": ""},
			want: []loc{{"binyang/tenant.yaml", 7, "parent"}},
		},
		{
			name:  "parent known to the platform",
			dirs:  map[string]string{"nanning": ""},
			known: map[string]region.Node{"450100": {Code: "450100", Level: region.City}},
			order: []string{"national", "guangxi", "binyang"},
		},
		{
			name:  "parent known to the platform at the wrong level",
			dirs:  map[string]string{"nanning": ""},
			known: map[string]region.Node{"450100": {Code: "450100", Level: region.County}},
			want:  []loc{{"binyang/tenant.yaml", 7, "parent"}},
		},
		{
			name: "duplicate codes",
			dirs: map[string]string{"nanning-2": tenant("nanning-2", "450100", "city", "450000")},
			want: []loc{{"nanning-2/tenant.yaml", 1, "code"}},
		},
		{
			name: "duplicate slugs",
			dirs: map[string]string{"binyang-old": tenant("binyang", "450127", "county", "450100")},
			want: []loc{
				{"binyang-old/tenant.yaml", 2, "slug"}, // does not match the directory
				{"binyang-old/tenant.yaml", 2, "slug"}, // and is already taken
			},
		},
		{
			name: "county under a county",
			dirs: map[string]string{"hengzhou": strings.Replace(hengzhou, "parent: 450100", "parent: 450126", 1)},
			want: []loc{{"hengzhou/tenant.yaml", 5, "parent"}},
		},
		{
			name: "code inconsistent with parent",
			dirs: map[string]string{"liuzhou": liuzhou, "liunan": tenant("liunan", "450204", "county", "450100")},
			want: []loc{{"liunan/tenant.yaml", 1, "code"}},
		},
		{
			name: "own parent",
			dirs: map[string]string{"nanning": strings.Replace(nanning, "parent: 450000", "parent: 450100", 1)},
			want: []loc{{"nanning/tenant.yaml", 5, "parent"}},
		},
		{
			name: "cycle",
			dirs: map[string]string{
				"nanning": strings.Replace(nanning, "parent: 450000", "parent: 450200", 1),
				"liuzhou": strings.Replace(liuzhou, "parent: 450000", "parent: 450100", 1),
			},
			want: []loc{
				// Each city is under a city, and the two form a cycle.
				{"liuzhou/tenant.yaml", 5, "parent"}, {"liuzhou/tenant.yaml", 5, "parent"},
				{"nanning/tenant.yaml", 5, "parent"}, {"nanning/tenant.yaml", 5, "parent"},
			},
		},
		{
			name: "problems in single manifests are reported too",
			dirs: map[string]string{"hengzhou": strings.Replace(hengzhou, "level: county", "level: County", 1)},
			extra: map[string]string{
				"nanning/departments.yaml": "departments:\n  - code: NN-SZYL\n    name: {zh: 南宁市市政和园林局}\n    kind: bureau\n",
			},
			want: []loc{{"hengzhou/tenant.yaml", 4, "level"}, {"nanning/departments.yaml", 4, "departments[0].kind"}},
		},
		{
			name: "misnamed tenant.yml",
			dirs: map[string]string{"hengzhou": ""},
			extra: map[string]string{
				"hengzhou/tenant.yml": hengzhou,
			},
			want: []loc{{"hengzhou/tenant.yml", 0, ""}},
		},
		{
			name: "management area",
			dirs: map[string]string{
				"gaoxin": "code: 450100GXQ\nslug: gaoxin\nname: {zh: 南宁高新区}\nlevel: county\nmanagement_area: true\nparent: 450100\n",
			},
			extra: map[string]string{"README.md": "not a tenant", "docs/notes.txt": "no tenant.yaml here"},
			order: []string{"national", "guangxi", "nanning", "gaoxin", "binyang"}, // "450100GXQ" < "450126"
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const root = "tenants"
			files := make(map[string]string)
			dirs := make(map[string]string)
			for d, data := range base {
				dirs[d] = data
			}
			for d, data := range tt.dirs {
				if data == "" {
					delete(dirs, d)
				} else {
					dirs[d] = data
				}
			}
			for d, data := range dirs {
				files[d+"/"+TenantFile] = data
			}
			for name, data := range tt.extra {
				files[name] = data
			}
			var opts Options
			if tt.known != nil {
				opts.KnownParent = func(code string) (region.Node, bool) {
					n, ok := tt.known[code]
					return n, ok
				}
			}
			got, err := loadTree(mapFS(files), root, opts)
			ps := problemsOf(t, err)
			var want []loc
			for _, l := range tt.want {
				want = append(want, loc{filepath.Join(root, l.File), l.Line, l.Field})
			}
			if diff := cmp.Diff(sortLocs(want), sortLocs(locsOf(ps))); diff != "" {
				t.Errorf("problems (-want +got):\n%s\ngot:\n%s", diff, ps.Localize("en"))
			}
			var order []string
			for _, tn := range got {
				order = append(order, tn.Slug)
			}
			if diff := cmp.Diff(tt.order, order); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadTreeOrder(t *testing.T) {
	t.Parallel()
	// Directory names sort differently from codes on purpose.
	root := writeTree(t, map[string]string{
		"ta/tenant.yaml": tenant("ta", "450206", "county", "450200"), // 柳江区 under 柳州
		"tb/tenant.yaml": tenant("tb", "450200", "city", "450000"),
		"tc/tenant.yaml": tenant("tc", "450181", "county", "450100"),
		"td/tenant.yaml": tenant("td", "450126", "county", "450100"),
		"te/tenant.yaml": tenant("te", "450100", "city", "450000"),
		"tf/tenant.yaml": tenant("tf", "450000", "province", "000000"),
		"tg/tenant.yaml": tenant("tg", "000000", "national", ""),
		"th/tenant.yaml": tenant("th", "429004", "county", "420000"), // 仙桃, parent on the platform
	})
	got, err := LoadTree(root, Options{KnownParent: func(code string) (region.Node, bool) {
		return region.Node{Code: code, Level: region.Province}, code == "420000"
	}})
	if err != nil {
		t.Fatalf("LoadTree: %v", err)
	}
	var codes []string
	for _, tn := range got {
		codes = append(codes, tn.Code)
	}
	want := []string{"000000", "429004", "450000", "450100", "450126", "450181", "450200", "450206"}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestLoadShippedTree(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..", "..", "tenants")
	got, err := LoadTree(root, Options{})
	if err != nil {
		t.Fatalf("LoadTree(%s):\n%s", root, problemsOf(t, err).Localize("en"))
	}
	type summary struct {
		Slug, Code, Parent string
		Level              region.Level
		Departments        int
	}
	var sums []summary
	for _, tn := range got {
		sums = append(sums, summary{tn.Slug, tn.Code, tn.ParentCode, tn.Level, len(tn.Departments)})
		if tn.Dir != filepath.Join(root, tn.Slug) {
			t.Errorf("%s: Dir = %q", tn.Slug, tn.Dir)
		}
		if tn.Admin == nil || tn.Admin.Login != "admin" || tn.Admin.PasswordRef != "secret://kv/cityops/tenants/"+tn.Code+"/admin" {
			t.Errorf("%s: admin = %+v", tn.Slug, tn.Admin)
		}
		if tn.TimeZone != "Asia/Shanghai" || tn.Isolation != IsolationShared || tn.NameZH == "" || tn.NameEN == "" {
			t.Errorf("%s: %+v", tn.Slug, tn)
		}
		for _, d := range tn.Departments {
			if d.NameEN == "" || len(d.Contacts) == 0 || len(d.Contacts) > 2 {
				t.Errorf("%s: department %s: want an English name and 1-2 contacts", tn.Slug, d.Code)
			}
			for _, c := range d.Contacts {
				// Sample data only: keep the numbers in the obviously fake range.
				if !strings.HasPrefix(c.Phone, "0771-555") {
					t.Errorf("%s: %s: phone %q is not a sample number", tn.Slug, d.Code, c.Phone)
				}
			}
		}
	}
	want := []summary{
		{"national", "000000", "", region.National, 0},
		{"guangxi", "450000", "000000", region.Province, 0},
		{"nanning", "450100", "450000", region.City, 29},
		{"binyang", "450126", "450100", region.County, 12},
		{"hengzhou", "450181", "450100", region.County, 12},
	}
	if diff := cmp.Diff(want, sums); diff != "" {
		t.Errorf("shipped tenants (-want +got):\n%s", diff)
	}

	kinds := make(map[DepartmentKind]int)
	for _, d := range got[2].Departments {
		kinds[d.Kind]++
	}
	wantKinds := map[DepartmentKind]int{
		KindDistrict: 7, KindManagementArea: 4, KindGovernment: 9, KindUtility: 7, KindPlatformCompany: 2,
	}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("Nanning department kinds (-want +got):\n%s", diff)
	}
}

func TestLocalize(t *testing.T) {
	t.Parallel()
	p := Problem{
		File: "tenants/binyang/tenant.yaml", Line: 4, Column: 7, Field: "parent",
		ZH: "上级租户 450999 不存在", EN: "parent tenant 450999 does not exist",
	}
	for lang, want := range map[string]string{
		"":      "tenants/binyang/tenant.yaml:4:7: parent: 上级租户 450999 不存在",
		"zh-CN": "tenants/binyang/tenant.yaml:4:7: parent: 上级租户 450999 不存在",
		"fr":    "tenants/binyang/tenant.yaml:4:7: parent: 上级租户 450999 不存在",
		"en":    "tenants/binyang/tenant.yaml:4:7: parent: parent tenant 450999 does not exist",
		"en-GB": "tenants/binyang/tenant.yaml:4:7: parent: parent tenant 450999 does not exist",
	} {
		if got := p.Localize(lang); got != want {
			t.Errorf("Localize(%q) = %q, want %q", lang, got, want)
		}
	}
	ps := Problems{p, {File: "tenants/binyang/departments.yaml", ZH: "文件为空", EN: "the file is empty"}}
	want := "tenants/binyang/tenant.yaml:4:7: parent: parent tenant 450999 does not exist\n" +
		"tenants/binyang/departments.yaml: the file is empty"
	if got := ps.Localize("en"); got != want {
		t.Errorf("Problems.Localize(en) = %q, want %q", got, want)
	}
	if ps.Error() != ps.Localize("zh-CN") {
		t.Errorf("Error() is not the zh-CN text")
	}
}

// TestUnknownParentMessage checks the full text an operator sees.
func TestUnknownParentMessage(t *testing.T) {
	t.Parallel()
	fsys := mapFS(map[string]string{
		"binyang/tenant.yaml": strings.Replace(binyang, `parent: "450100"`, "parent: 450999", 1),
	})
	_, err := loadTree(fsys, "tenants", Options{})
	want := "tenants/binyang/tenant.yaml:7:9: parent: 上级租户 450999 不存在"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func FuzzLoadTenant(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("..", "..", "..", "tenants", "*", TenantFile))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no shipped manifests to seed from: %v", err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		binyang, "", "- 1\n", "code: &a 1\nslug: *a\n", "a: 1\n---\nb: 2\n", "name: {zh: [\n",
		binyang + "admin:\n  login: admin\n  password: secret://x\n", binyang + "admin: 1\n",
		"code: 450100GXQ\nslug: binyang\nname: {zh: x}\nlevel: county\nmanagement_area: true\nparent: 450100\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const dir = "tenants/binyang"
		fsys := fstest.MapFS{
			dir + "/" + TenantFile:      {Data: data},
			dir + "/" + DepartmentsFile: {Data: data}, // the same bytes exercise the departments parser
		}
		tn, err := loadTenant(fsys, dir, dir, "binyang")
		if err == nil {
			if tn == nil {
				t.Fatal("nil tenant without error")
			}
			if vs := region.CheckNode(tn.Node()); len(vs) > 0 {
				t.Fatalf("accepted tenant breaks region rules: %+v", vs)
			}
			return
		}
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("error %v is not a non-empty Problems", err)
		}
		for _, p := range ps {
			if p.ZH == "" || p.EN == "" || p.Line < 0 || p.Column < 0 || !strings.HasPrefix(p.File, dir+"/") {
				t.Fatalf("malformed problem %+v", p)
			}
		}
	})
}
