package manifest

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cityops/cityops/app/pkg/region"
)

// extraFiles are the optional files of a tenant directory besides
// tenant.yaml, parsed in this order into the Tenant. grids.geojson,
// components.csv and evaluation.yaml join this list as their issues land;
// other files in the directory are ignored until then.
var extraFiles = []struct {
	name  string
	parse func(t *Tenant, file string, data []byte) Problems
}{
	{DepartmentsFile, parseDepartments},
}

// Options tunes LoadTree.
type Options struct {
	// KnownParent resolves a parent code that no tenant of the tree has,
	// typically by looking the code up among tenants already onboarded. It
	// returns false when the parent does not exist. Nil means the tree must
	// be self-contained: every parent code must belong to a tenant in it.
	KnownParent func(code string) (region.Node, bool)
}

// LoadTenant loads and validates the tenant directory dir on its own.
//
// Its parent is checked only through the parent code's structure (a county
// under 450126 is rejected, because 450126 is a county code), since the
// parent's own manifest is not at hand. The caller resolves the parent and
// calls CheckParent. On any problem the error is Problems and the tenant is
// nil.
func LoadTenant(dir string) (*Tenant, error) {
	name := filepath.Base(dir)
	if abs, err := filepath.Abs(dir); err == nil {
		// "." or "tenants/binyang/" must still compare the slug with the
		// directory's real name.
		name = filepath.Base(abs)
	}
	return loadTenant(os.DirFS(dir), ".", dir, name)
}

// loadTenant is LoadTenant on any file system (tests and fuzzing use an
// in-memory one); the arguments are those of loadDir.
func loadTenant(fsys fs.FS, name, dir, dirName string) (*Tenant, error) {
	t, probs, err := loadDir(fsys, name, dir, dirName)
	if err != nil {
		return nil, err
	}
	if t != nil {
		// Stand in for the parent with what its code says about it.
		var parent *region.Node
		if lvl, ok := region.LevelOfCode(t.ParentCode); ok {
			parent = &region.Node{Code: t.ParentCode, Level: lvl}
		}
		if parent != nil || t.ParentCode == "" && !t.parentGiven {
			probs = append(probs, CheckParent(t, parent)...)
		}
	}
	probs.sort()
	if len(probs) > 0 {
		return nil, probs
	}
	return t, nil
}

// CheckParent checks t's placement under parent (nil when t has none) with
// region.CheckParent and reports the violations at t's tenant.yaml lines.
// Onboarding uses it after LoadTenant, with the parent taken from the
// platform.
func CheckParent(t *Tenant, parent *region.Node) Problems {
	var probs Problems
	for _, v := range region.CheckParent(t.Node(), parent) {
		probs = append(probs, t.FieldPos(v.Field).Problem(v.Field, v.ZH, v.EN))
	}
	return probs
}

// LoadTree loads every immediate subdirectory of root that holds a
// tenant.yaml, validates each, and then checks the tenants against each
// other: duplicate codes and slugs, parents that exist (in the tree or
// through opts.KnownParent), placement rules and cycles. It returns the
// tenants parent first: a topological order, by code among tenants whose
// parents are already placed. On any problem the error is Problems (all of
// them, sorted by file and line) and the slice is nil. I/O failures other
// than a missing file are returned as plain errors.
func LoadTree(root string, opts Options) ([]*Tenant, error) {
	return loadTree(os.DirFS(root), root, opts)
}

// loadTree is LoadTree on any file system; root is only used in messages.
func loadTree(fsys fs.FS, root string, opts Options) ([]*Tenant, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("manifest: read tenants tree: %w", err)
	}
	var (
		tenants []*Tenant
		probs   Problems
	)
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if _, err := fs.Stat(fsys, path.Join(e.Name(), TenantFile)); err != nil {
			if _, yml := fs.Stat(fsys, path.Join(e.Name(), "tenant.yml")); yml == nil {
				probs = append(probs, Problem{File: filepath.Join(dir, "tenant.yml"),
					ZH: "文件名应为 tenant.yaml", EN: "the file must be named tenant.yaml"})
			}
			continue
		}
		t, p, err := loadDir(fsys, e.Name(), dir, e.Name())
		if err != nil {
			return nil, err
		}
		probs = append(probs, p...)
		if t != nil {
			tenants = append(tenants, t)
		}
	}
	ordered, p := checkTree(tenants, opts)
	probs = append(probs, p...)
	probs.sort()
	if len(probs) > 0 {
		return nil, probs
	}
	return ordered, nil
}

// loadDir reads one tenant directory from fsys. name is its path in fsys,
// dir the same directory as the caller named it (used in messages), and
// dirName the name the slug must equal.
func loadDir(fsys fs.FS, name, dir, dirName string) (*Tenant, Problems, error) {
	file := filepath.Join(dir, TenantFile)
	data, err := fs.ReadFile(fsys, path.Join(name, TenantFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Problems{{File: file, ZH: "缺少 " + TenantFile, EN: TenantFile + " is missing"}}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("manifest: %w", err)
	}
	t, probs := parseTenant(file, data, dirName)
	if t == nil {
		return nil, probs, nil
	}
	t.Dir = dir
	for _, x := range extraFiles {
		data, err := fs.ReadFile(fsys, path.Join(name, x.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("manifest: %w", err)
		}
		probs = append(probs, x.parse(t, filepath.Join(dir, x.name), data)...)
	}
	return t, probs, nil
}

// checkTree runs the cross-manifest checks and orders the tenants.
func checkTree(tenants []*Tenant, opts Options) ([]*Tenant, Problems) {
	var probs Problems
	// Directory order is alphabetical, so "first" below is deterministic.
	byCode := make(map[string]*Tenant, len(tenants))
	bySlug := make(map[string]*Tenant, len(tenants))
	for _, t := range tenants {
		if t.Code != "" {
			if first, dup := byCode[t.Code]; dup {
				probs = append(probs, t.FieldPos("code").Problem("code",
					fmt.Sprintf("租户代码 %s 与 %s 重复", t.Code, first.Pos.File),
					fmt.Sprintf("tenant code %s is also used by %s", t.Code, first.Pos.File)))
			} else {
				byCode[t.Code] = t
			}
		}
		if t.Slug != "" {
			if first, dup := bySlug[t.Slug]; dup {
				probs = append(probs, t.FieldPos("slug").Problem("slug",
					fmt.Sprintf("slug %s 与 %s 重复", t.Slug, first.Pos.File),
					fmt.Sprintf("slug %s is also used by %s", t.Slug, first.Pos.File)))
			} else {
				bySlug[t.Slug] = t
			}
		}
	}

	// inTree maps a tenant to its parent when that parent is in the tree.
	inTree := make(map[*Tenant]*Tenant, len(tenants))
	for _, t := range tenants {
		if t.ParentCode == "" {
			if !t.parentGiven {
				probs = append(probs, CheckParent(t, nil)...)
			}
			continue
		}
		if _, ok := region.LevelOfCode(t.ParentCode); !ok {
			continue // reported by parseTenant
		}
		var parent region.Node
		if p, ok := byCode[t.ParentCode]; ok {
			parent = p.Node()
			if p != t {
				inTree[t] = p
			}
		} else if n, ok := knownParent(opts, t.ParentCode); ok {
			parent = n
		} else {
			probs = append(probs, t.FieldPos("parent").Problem("parent",
				fmt.Sprintf("上级租户 %s 不存在", t.ParentCode),
				fmt.Sprintf("parent tenant %s does not exist", t.ParentCode)))
			continue
		}
		if !parent.Level.Valid() {
			continue // the parent's own manifest reports its level
		}
		probs = append(probs, CheckParent(t, &parent)...)
	}

	ordered, cyclic := topoSort(tenants, inTree)
	for _, cycle := range cyclic {
		chain := make([]string, 0, len(cycle)+1)
		for _, t := range cycle {
			chain = append(chain, t.Code)
		}
		chain = append(chain, cycle[0].Code)
		s := strings.Join(chain, " → ")
		for _, t := range cycle {
			probs = append(probs, t.FieldPos("parent").Problem("parent",
				"上级关系形成环："+s, "parents form a cycle: "+s))
		}
	}
	return ordered, probs
}

func knownParent(opts Options, code string) (region.Node, bool) {
	if opts.KnownParent == nil {
		return region.Node{}, false
	}
	return opts.KnownParent(code)
}

// topoSort orders tenants parent first, taking the smallest code (then slug)
// among the tenants that are ready, so the order does not depend on
// directory names. Tenants left over sit on or below a cycle; the cycles are
// returned, each starting from its smallest code.
func topoSort(tenants []*Tenant, parent map[*Tenant]*Tenant) (ordered []*Tenant, cycles [][]*Tenant) {
	children := make(map[*Tenant][]*Tenant)
	var ready []*Tenant
	for _, t := range tenants {
		if p, ok := parent[t]; ok {
			children[p] = append(children[p], t)
		} else {
			ready = append(ready, t)
		}
	}
	byCode := func(a, b *Tenant) int {
		return cmp.Or(strings.Compare(a.Code, b.Code), strings.Compare(a.Slug, b.Slug), strings.Compare(a.Dir, b.Dir))
	}
	placed := make(map[*Tenant]bool, len(tenants))
	for len(ready) > 0 {
		slices.SortFunc(ready, byCode)
		t := ready[0]
		ready = ready[1:]
		ordered = append(ordered, t)
		placed[t] = true
		ready = append(ready, children[t]...)
	}
	if len(ordered) == len(tenants) {
		return ordered, nil
	}

	// Walk up from each unplaced tenant; the walk ends in a cycle. Each
	// cycle is reported once.
	inCycle := make(map[*Tenant]bool)
	rest := slices.Clone(tenants)
	slices.SortFunc(rest, byCode)
	for _, start := range rest {
		if placed[start] || inCycle[start] {
			continue
		}
		seen := make(map[*Tenant]int)
		var walk []*Tenant
		t := start
		for !inCycle[t] {
			if i, ok := seen[t]; ok {
				cycle := slices.Clone(walk[i:])
				for _, c := range cycle {
					inCycle[c] = true
				}
				first := slices.IndexFunc(cycle, func(c *Tenant) bool {
					return c == slices.MinFunc(cycle, byCode)
				})
				cycles = append(cycles, append(cycle[first:], cycle[:first]...))
				break
			}
			seen[t] = len(walk)
			walk = append(walk, t)
			t = parent[t]
		}
	}
	return ordered, cycles
}
