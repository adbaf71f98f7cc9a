package grid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/app/pkg/geo"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// ImportInput is one GeoJSON FeatureCollection to load into a tenant.
type ImportInput struct {
	Tenant *tenant.Tenant
	// Source is read once, streaming: the file is never held whole.
	Source io.Reader
	// Replace closes the current unit grids the file does not contain.
	Replace bool
	// ToleranceM2 overrides Config.ToleranceM2 when > 0.
	ToleranceM2 float64
	// DryRun validates and diffs without writing.
	DryRun bool
	// Progress, when set, is called every ProgressEvery features while the
	// file is read, and once per later phase.
	Progress func(Progress)
}

// ProgressEvery is how many features pass between two progress calls.
const ProgressEvery = 500

// Progress is where an import stands.
type Progress struct {
	// Phase is "read", "check", "write" or "done".
	Phase string
	// Features read so far.
	Features int
}

// Counts counts what an import did to one kind of row.
type Counts struct {
	Created, Updated, Closed, Unchanged int
}

// ImportReport says what an import found and did.
type ImportReport struct {
	Features  int
	UnitGrids Counts
	Regions   Counts
	WorkGrids Counts
	// Problems is empty when the import was applied; otherwise nothing was
	// written.
	Problems []Problem
	// Coverage is the map as the import leaves it: territory, gaps, and
	// the overlaps beyond the tolerance (those involving the file's grids
	// are Problems too). Nil when no unit grid would be current.
	Coverage *Coverage
	Revision int64
	DryRun   bool
	Applied  bool
	// Stale lists regions and work grids ("street 450126001", "patrol P01")
	// that a replace import no longer contains: they have no validity
	// columns to close, so they are kept and reported.
	Stale []string
}

// parsed is the file after reading: every feature that passed its own
// checks, by kind, with the feature index for cross-checks.
type parsed struct {
	streets     []*Region
	communities []*Region
	units       []*unitFeature
	work        []*WorkGrid
	// index of the feature that declared each row, for problems.
	regionIdx map[string]int
	workIdx   map[string]int
	features  int
}

type unitFeature struct {
	idx  int
	grid *UnitGrid
	geom geo.Geometry
}

// problems collects the problems of one import up to a cap.
type problems struct {
	max  int
	list []Problem
	cut  bool
}

func (ps *problems) add(p Problem) {
	if len(ps.list) >= ps.max {
		ps.cut = true
		return
	}
	ps.list = append(ps.list, p)
}

func (ps *problems) result() []Problem {
	if ps.cut {
		return append(ps.list, Problem{FeatureIndex: -1, Rule: geo.CodeTooManyProblems,
			ZH: fmt.Sprintf("问题过多，仅列出前 %d 个", ps.max), EN: fmt.Sprintf("too many problems; only the first %d are listed", ps.max)})
	}
	return ps.list
}

var featurePathRE = regexp.MustCompile(`^features\[(\d+)\]\.?`)

// fromGeo turns a geo problem (path from the collection root, or from the
// feature's geometry) into ours: feature index and the field inside it.
func fromGeo(p geo.Problem, idx int, code string) Problem {
	field := p.Path
	if m := featurePathRE.FindStringSubmatch(field); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			idx = n
		}
		field = field[len(m[0]):]
	}
	return Problem{FeatureIndex: idx, Code: code, Field: field, Rule: p.Code, ZH: p.ZH, EN: p.EN}
}

func geoProblems(err error, idx int, code string) []Problem {
	var ps geo.Problems
	if errors.As(err, &ps) {
		out := make([]Problem, 0, len(ps))
		for _, p := range ps {
			out = append(out, fromGeo(p, idx, code))
		}
		return out
	}
	return []Problem{{FeatureIndex: idx, Code: code, Rule: geo.CodeInvalidJSON,
		ZH: "无法读取文件：" + err.Error(), EN: "cannot read the file: " + err.Error()}}
}

// canonical returns the stored text of a validated geometry.
func canonical(g geo.Geometry) (string, error) {
	b, err := g.MarshalJSON()
	if err != nil {
		return "", fmt.Errorf("grid import: encode geometry: %w", err)
	}
	return string(b), nil
}

func toBBox(b geo.BBox) BBox {
	return BBox{MinLon: b.MinLon, MinLat: b.MinLat, MaxLon: b.MaxLon, MaxLat: b.MaxLat}
}

// read streams the file and checks every feature on its own.
func (u *Usecase) read(in ImportInput, ps *problems) (*parsed, error) {
	j := jurisdictionOf(in.Tenant)
	out := &parsed{regionIdx: map[string]int{}, workIdx: map[string]int{}}
	unitIdx := map[string]int{}
	i := -1
	for f, err := range geo.ParseFeatureCollection(in.Source) {
		if err != nil {
			// The stream stops at a structural error; every feature before
			// it has been checked, and the error names where it stopped.
			for _, p := range geoProblems(err, -1, "") {
				// Only the feature after the last good one can be at
				// fault; any other "features[n]" is the name of a foreign
				// member, and the problem is the file's.
				if p.FeatureIndex != out.features && p.FeatureIndex != -1 {
					p.Field = fmt.Sprintf("features[%d].%s", p.FeatureIndex, p.Field)
					p.FeatureIndex = -1
				}
				ps.add(p)
			}
			break
		}
		i++
		out.features = i + 1
		if in.Progress != nil && out.features%ProgressEvery == 0 {
			in.Progress(Progress{Phase: "read", Features: out.features})
		}
		if err := u.readFeature(i, f, j, out, unitIdx, ps); err != nil {
			return nil, err
		}
	}
	if in.Progress != nil {
		in.Progress(Progress{Phase: "read", Features: out.features})
	}
	return out, nil
}

func (u *Usecase) readFeature(i int, f geo.Feature, j jurisdiction, out *parsed, unitIdx map[string]int, ps *problems) error {
	var p props
	if len(f.Properties) == 0 {
		ps.add(Problem{FeatureIndex: i, Field: "properties", Rule: RuleMissing,
			ZH: "要素缺少 properties", EN: "the feature has no properties"})
		return nil
	}
	if err := json.Unmarshal(f.Properties, &p); err != nil {
		ps.add(Problem{FeatureIndex: i, Field: "properties", Rule: geo.CodeWrongType,
			ZH: "properties 无法解析：" + err.Error(), EN: "properties cannot be read: " + err.Error()})
		return nil
	}
	code := string(p.Code)
	before := len(ps.list)
	bad := func() bool { return len(ps.list) > before || ps.cut }
	if code == "" {
		ps.add(Problem{FeatureIndex: i, Field: "properties.code", Rule: RuleMissing, ZH: "缺少编码 code", EN: "the code is missing"})
	}
	// polygon validates an optional or required area geometry.
	polygon := func(required bool) (geo.Geometry, string, bool) {
		if f.Geometry == nil {
			if required {
				ps.add(Problem{FeatureIndex: i, Code: code, Field: "geometry", Rule: RuleMissing,
					ZH: "缺少几何图形", EN: "the geometry is missing"})
			}
			return geo.Geometry{}, "", false
		}
		g, gps := geo.ValidatePolygonal("geometry", *f.Geometry)
		for _, gp := range gps {
			ps.add(fromGeo(gp, i, code))
		}
		if len(gps) > 0 {
			return geo.Geometry{}, "", false
		}
		text, err := canonical(g)
		if err != nil {
			ps.add(Problem{FeatureIndex: i, Code: code, Field: "geometry", Rule: geo.CodeInvalidNumber, ZH: "几何图形无法编码", EN: err.Error()})
			return geo.Geometry{}, "", false
		}
		return g, text, true
	}
	lenCheck := func(field, v string, max int) {
		if pr := checkLen(i, code, field, v, max); pr != nil {
			ps.add(*pr)
		}
	}
	switch p.Kind {
	case featStreet, featCommunity:
		level, re, n := LevelStreet, streetRE, 9
		if p.Kind == featCommunity {
			level, re, n = LevelCommunity, communityRE, 12
		}
		if code != "" && !re.MatchString(code) {
			ps.add(codeProblem(i, "properties.code", code,
				fmt.Sprintf("%s编码应为 %d 位数字", map[Level]string{LevelStreet: "街道", LevelCommunity: "社区"}[level], n),
				fmt.Sprintf("a %s code must be %d digits", level, n)))
		} else if code != "" && !j.owns(code) {
			ps.add(j.foreign(i, "properties.code", code))
		}
		parent := ""
		if level == LevelCommunity && len(code) == 12 {
			parent = code[:9]
			if s := string(p.StreetCode); s != "" && s != parent {
				ps.add(Problem{FeatureIndex: i, Code: code, Field: "properties.street_code", Rule: RuleInconsistentCode,
					ZH: fmt.Sprintf("所属街道 %s 与编码前 9 位 %s 不一致", s, parent),
					EN: fmt.Sprintf("street %s does not match the code's first 9 digits %s", s, parent)})
			}
		}
		name := strings.TrimSpace(p.Name)
		if name == "" {
			ps.add(Problem{FeatureIndex: i, Code: code, Field: "properties.name", Rule: RuleMissing, ZH: "缺少名称 name", EN: "the name is missing"})
		}
		lenCheck("properties.name", name, 128)
		_, text, _ := polygon(false)
		if prev, dup := out.regionIdx[code]; dup && code != "" {
			ps.add(dupProblem(i, code, prev))
		}
		if bad() {
			return nil
		}
		out.regionIdx[code] = i
		r := &Region{Level: level, Code: code, ParentCode: parent, NameZH: name, Geometry: text}
		if level == LevelStreet {
			out.streets = append(out.streets, r)
		} else {
			out.communities = append(out.communities, r)
		}
	case featUnit:
		if code != "" && !unitRE.MatchString(code) {
			ps.add(codeProblem(i, "properties.code", code,
				fmt.Sprintf("单元网格编码应为 15 位（县 6 + 街道 3 + 社区 3 + 顺序 3），实际 %d 位", len(code)),
				fmt.Sprintf("a unit grid code has 15 digits (county 6 + street 3 + community 3 + sequence 3), got %d", len(code))))
		} else if code != "" && !j.owns(code) {
			ps.add(j.foreign(i, "properties.code", code))
		}
		var community, street string
		if len(code) == 15 {
			community, street = code[:12], code[:9]
		}
		if c := string(p.CommunityCode); c != "" && community != "" && c != community {
			ps.add(Problem{FeatureIndex: i, Code: code, Field: "properties.community_code", Rule: RuleInconsistentCode,
				ZH: fmt.Sprintf("所属社区 %s 与编码前 12 位 %s 不一致", c, community),
				EN: fmt.Sprintf("community %s does not match the code's first 12 digits %s", c, community)})
		}
		if s := string(p.StreetCode); s != "" && street != "" && s != street {
			ps.add(Problem{FeatureIndex: i, Code: code, Field: "properties.street_code", Rule: RuleInconsistentCode,
				ZH: fmt.Sprintf("所属街道 %s 与编码前 9 位 %s 不一致", s, street),
				EN: fmt.Sprintf("street %s does not match the code's first 9 digits %s", s, street)})
		}
		lenCheck("properties.area_class", p.AreaClass, 16)
		lenCheck("properties.land_use", string(p.LandUse), 32)
		lenCheck("properties.responsible", p.Responsible, 128)
		g, text, _ := polygon(true)
		if prev, dup := unitIdx[code]; dup && code != "" {
			ps.add(dupProblem(i, code, prev))
		}
		if bad() {
			return nil
		}
		unitIdx[code] = i
		out.units = append(out.units, &unitFeature{idx: i, geom: g, grid: &UnitGrid{
			Code: code, CommunityCode: community, StreetCode: street,
			AreaClass: strings.TrimSpace(p.AreaClass), LandUse: string(p.LandUse), Responsible: strings.TrimSpace(p.Responsible),
			Geometry: text, BBox: toBBox(g.BBox()), AreaM2: g.AreaM2(),
		}})
	case featPatrol, featResponsibility:
		kind := WorkKind(p.Kind)
		if code != "" && !workRE.MatchString(code) {
			ps.add(codeProblem(i, "properties.code", code,
				"网格编码只能包含字母、数字、点、下划线和连字符，最长 32 位",
				"a work grid code holds letters, digits, '.', '_' and '-', at most 32"))
		}
		name := strings.TrimSpace(p.Name)
		if name == "" {
			ps.add(Problem{FeatureIndex: i, Code: code, Field: "properties.name", Rule: RuleMissing, ZH: "缺少名称 name", EN: "the name is missing"})
		}
		lenCheck("properties.name", name, 128)
		dept := string(p.Department)
		lenCheck("properties.department_code", dept, 64)
		if kind == KindResponsibility && dept == "" {
			ps.add(Problem{FeatureIndex: i, Code: code, Field: "properties.department_code", Rule: RuleMissing,
				ZH: "责任网格必须指定责任部门 department_code", EN: "a responsibility grid needs its department_code"})
		}
		units := make([]string, 0, len(p.UnitGrids))
		for k, c := range p.UnitGrids {
			if !unitRE.MatchString(string(c)) {
				ps.add(codeProblem(i, fmt.Sprintf("properties.unit_grids[%d]", k), string(c),
					"单元网格编码应为 15 位", "a unit grid code has 15 digits"))
				continue
			}
			units = append(units, string(c))
		}
		slices.Sort(units)
		units = slices.Compact(units)
		var text string
		switch {
		case f.Geometry != nil && len(p.UnitGrids) > 0:
			ps.add(Problem{FeatureIndex: i, Code: code, Field: "geometry", Rule: RuleGeometryKind,
				ZH: "工作网格要么给出几何图形，要么给出 unit_grids，不能同时给出",
				EN: "a work grid is either a geometry or a list of unit_grids, not both"})
		case f.Geometry == nil && len(p.UnitGrids) == 0:
			ps.add(Problem{FeatureIndex: i, Code: code, Field: "geometry", Rule: RuleMissing,
				ZH: "工作网格需要几何图形或 unit_grids", EN: "a work grid needs a geometry or unit_grids"})
		case f.Geometry != nil:
			_, text, _ = polygon(true)
		}
		assignees := make([]string, 0, len(p.Assignees))
		for _, a := range p.Assignees {
			if a = strings.TrimSpace(a); a != "" {
				assignees = append(assignees, a)
			}
		}
		key := string(kind) + " " + code
		if prev, dup := out.workIdx[key]; dup && code != "" {
			ps.add(dupProblem(i, code, prev))
		}
		if bad() {
			return nil
		}
		out.workIdx[key] = i
		if len(units) == 0 {
			units = nil
		}
		if len(assignees) == 0 {
			assignees = nil
		}
		out.work = append(out.work, &WorkGrid{Kind: kind, Code: code, NameZH: name, Geometry: text,
			UnitGridCodes: units, Assignees: assignees, DepartmentCode: dept})
	default:
		ps.add(Problem{FeatureIndex: i, Code: code, Field: "properties.kind", Rule: RuleUnknownKind,
			ZH: fmt.Sprintf("未知的要素类型 %q（应为 street、community、unit、patrol 或 responsibility）", p.Kind),
			EN: fmt.Sprintf("unknown feature kind %q (want street, community, unit, patrol or responsibility)", p.Kind)})
	}
	return nil
}

func dupProblem(i int, code string, prev int) Problem {
	return Problem{FeatureIndex: i, Code: code, Field: "properties.code", Rule: RuleDuplicate,
		ZH: fmt.Sprintf("编码 %s 重复（第 %d 个要素已使用）", code, prev),
		EN: fmt.Sprintf("duplicate code %s (already used by feature %d)", code, prev)}
}

// Import validates a FeatureCollection and, when it has no problem, applies
// it in one transaction that also bumps the tenant's grid revision.
//
// One transaction rather than batches with a resumable position: the
// checks that matter most (no overlaps, every community known, work grids
// naming existing unit grids) need the whole file, and a half-applied map
// would locate cases in a territory that exists nowhere. A county's 32,000
// grids apply in seconds, well inside one transaction on both databases;
// the inserts inside it are batched (500 rows a statement).
func (u *Usecase) Import(ctx context.Context, in ImportInput) (*ImportReport, error) {
	t := in.Tenant
	if err := authorize(ctx, t.ID, t.Code); err != nil {
		return nil, err
	}
	tol := in.ToleranceM2
	if tol <= 0 {
		tol = u.cfg.ToleranceM2
	}
	ps := &problems{max: u.cfg.MaxProblems}
	p, err := u.read(in, ps)
	if err != nil {
		return nil, err
	}
	rep := &ImportReport{Features: p.features, DryRun: in.DryRun}
	if in.Progress != nil {
		in.Progress(Progress{Phase: "check", Features: p.features})
	}
	var plan *plan
	// The cross-checks read the database; they run in the transaction that
	// writes, so what was checked is what is written.
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		now := u.now()
		if !in.DryRun {
			if err := u.repo.LockRevision(ctx, t.ID, now); err != nil {
				return err
			}
		}
		var err error
		plan, err = u.check(ctx, t, p, in.Replace, tol, ps, rep)
		if err != nil {
			return err
		}
		rep.Problems = ps.result()
		if len(rep.Problems) > 0 {
			return errRejected
		}
		plan.count(rep)
		if in.DryRun || !plan.changes() {
			if !in.DryRun {
				rep.Applied = true
			}
			rev, err := u.repo.Revision(ctx, t.ID)
			rep.Revision = rev
			return err
		}
		if in.Progress != nil {
			in.Progress(Progress{Phase: "write", Features: p.features})
		}
		if err := plan.apply(ctx, u.repo, t.ID, now); err != nil {
			return err
		}
		rep.Revision, err = u.repo.BumpRevision(ctx, t.ID, now)
		rep.Applied = true
		return err
	})
	if errors.Is(err, errRejected) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if rep.Applied && u.locator != nil && plan != nil && plan.changes() {
		// This replica sees its own import at once; the others at their
		// next poll of the revision.
		u.locator.Refresh(ctx, t.ID)
	}
	if in.Progress != nil {
		in.Progress(Progress{Phase: "done", Features: p.features})
	}
	return rep, nil
}

// errRejected rolls the check transaction back when problems were found.
var errRejected = errors.New("grid import: rejected")

// plan is the diff between the file and the database.
type plan struct {
	newUnits     []*UnitGrid
	replaced     []*UnitGrid // new versions of changed grids
	close        []string    // codes whose current version ends (changed or absent)
	absent       int
	unchanged    int
	regionCreate []*Region
	regionUpdate []*Region
	regionSame   int
	workCreate   []*WorkGrid
	workUpdate   []*WorkGrid
	workSame     int
}

func (p *plan) changes() bool {
	return len(p.newUnits)+len(p.replaced)+len(p.close)+len(p.regionCreate)+len(p.regionUpdate)+
		len(p.workCreate)+len(p.workUpdate) > 0
}

func (p *plan) count(rep *ImportReport) {
	rep.UnitGrids = Counts{Created: len(p.newUnits), Updated: len(p.replaced), Closed: p.absent, Unchanged: p.unchanged}
	rep.Regions = Counts{Created: len(p.regionCreate), Updated: len(p.regionUpdate), Unchanged: p.regionSame}
	rep.WorkGrids = Counts{Created: len(p.workCreate), Updated: len(p.workUpdate), Unchanged: p.workSame}
}

func (p *plan) apply(ctx context.Context, repo Repo, tenantID int, now time.Time) error {
	if _, err := repo.CloseUnitGrids(ctx, tenantID, p.close, now); err != nil {
		return err
	}
	ins := make([]*UnitGrid, 0, len(p.newUnits)+len(p.replaced))
	for _, g := range append(slices.Clone(p.newUnits), p.replaced...) {
		g.ValidFrom, g.ValidTo = now, nil
		ins = append(ins, g)
	}
	if err := repo.CreateUnitGrids(ctx, tenantID, ins); err != nil {
		return err
	}
	if err := repo.SaveRegions(ctx, tenantID, p.regionCreate, p.regionUpdate); err != nil {
		return err
	}
	return repo.SaveWorkGrids(ctx, tenantID, p.workCreate, p.workUpdate)
}

// check runs the checks across features and against the database, and
// returns the diff to apply.
func (u *Usecase) check(ctx context.Context, t *tenant.Tenant, p *parsed, replace bool, tol float64, ps *problems, rep *ImportReport) (*plan, error) {
	pl := &plan{}
	// Regions: the file's, then the database's for what the file lacks.
	dbRegions, err := u.repo.Regions(ctx, t.ID, "")
	if err != nil {
		return nil, err
	}
	regions := map[string]*Region{}
	for _, r := range dbRegions {
		regions[r.Code] = r
	}
	fileRegions := map[string]bool{}
	for _, r := range append(slices.Clone(p.streets), p.communities...) {
		fileRegions[r.Code] = true
		cur, ok := regions[r.Code]
		switch {
		case !ok:
			pl.regionCreate = append(pl.regionCreate, r)
		case cur.Level != r.Level:
			ps.add(Problem{FeatureIndex: p.regionIdx[r.Code], Code: r.Code, Field: "properties.kind", Rule: RuleInconsistentCode,
				ZH: fmt.Sprintf("%s 已登记为 %s，不能改为 %s", r.Code, cur.Level, r.Level),
				EN: fmt.Sprintf("%s is registered as a %s and cannot become a %s", r.Code, cur.Level, r.Level)})
		case cur.same(r):
			pl.regionSame++
		default:
			pl.regionUpdate = append(pl.regionUpdate, r)
		}
	}
	known := func(code string, level Level) bool {
		if fileRegions[code] {
			return true
		}
		r, ok := regions[code]
		return ok && r.Level == level
	}
	for _, c := range p.communities {
		if !known(c.ParentCode, LevelStreet) {
			ps.add(Problem{FeatureIndex: p.regionIdx[c.Code], Code: c.Code, Field: "properties.street_code", Rule: RuleUnknownStreet,
				ZH: fmt.Sprintf("所属街道 %s 既不在文件中也未登记", c.ParentCode),
				EN: fmt.Sprintf("street %s is neither in the file nor registered", c.ParentCode)})
		}
	}
	for _, uf := range p.units {
		if !known(uf.grid.CommunityCode, LevelCommunity) {
			ps.add(Problem{FeatureIndex: uf.idx, Code: uf.grid.Code, Field: "properties.community_code", Rule: RuleUnknownCommunity,
				ZH: fmt.Sprintf("所属社区 %s 既不在文件中也未登记", uf.grid.CommunityCode),
				EN: fmt.Sprintf("community %s is neither in the file nor registered", uf.grid.CommunityCode)})
		}
	}
	if replace {
		for _, r := range dbRegions {
			if !fileRegions[r.Code] {
				rep.Stale = append(rep.Stale, string(r.Level)+" "+r.Code)
			}
		}
	}

	// Unit grids: diff by code against the current versions.
	current, err := u.repo.CurrentUnitGrids(ctx, t.ID, true)
	if err != nil {
		return nil, err
	}
	cur := make(map[string]*UnitGrid, len(current))
	for _, g := range current {
		cur[g.Code] = g
	}
	inFile := make(map[string]bool, len(p.units))
	for _, uf := range p.units {
		inFile[uf.grid.Code] = true
		old, ok := cur[uf.grid.Code]
		switch {
		case !ok:
			pl.newUnits = append(pl.newUnits, uf.grid)
		case old.sameVersion(uf.grid):
			pl.unchanged++
		default:
			pl.replaced = append(pl.replaced, uf.grid)
			pl.close = append(pl.close, uf.grid.Code)
		}
	}
	// The grids that stay current besides the file's: all others, unless
	// the file replaces the whole map.
	var kept []*UnitGrid
	for _, g := range current {
		if inFile[g.Code] {
			continue
		}
		if replace {
			pl.close = append(pl.close, g.Code)
			pl.absent++
		} else {
			kept = append(kept, g)
		}
	}

	// Work grids: their unit grids must be current after the import.
	after := func(code string) bool {
		if inFile[code] {
			return true
		}
		_, ok := cur[code]
		return ok && !replace
	}
	dbWork, err := u.repo.WorkGrids(ctx, t.ID, "")
	if err != nil {
		return nil, err
	}
	works := map[string]*WorkGrid{}
	for _, w := range dbWork {
		works[string(w.Kind)+" "+w.Code] = w
	}
	for _, w := range p.work {
		key := string(w.Kind) + " " + w.Code
		idx := p.workIdx[key]
		for _, c := range w.UnitGridCodes {
			if !after(c) {
				ps.add(Problem{FeatureIndex: idx, Code: w.Code, Field: "properties.unit_grids", Rule: RuleUnknownUnitGrid,
					ZH: fmt.Sprintf("单元网格 %s 既不在文件中也不是现行网格", c),
					EN: fmt.Sprintf("unit grid %s is neither in the file nor current", c)})
			}
		}
		old, ok := works[key]
		switch {
		case !ok:
			pl.workCreate = append(pl.workCreate, w)
		case old.same(w):
			pl.workSame++
		default:
			pl.workUpdate = append(pl.workUpdate, w)
		}
		delete(works, key)
	}
	if replace {
		for _, w := range dbWork {
			if _, left := works[string(w.Kind)+" "+w.Code]; left {
				rep.Stale = append(rep.Stale, string(w.Kind)+" "+w.Code)
			}
		}
	}

	// Overlaps and gaps of the map as it will be: the file's grids (those
	// that passed their own checks) and the ones that stay current.
	if !ps.cut {
		parts := make([]coverGrid, 0, len(p.units)+len(kept))
		for _, uf := range p.units {
			parts = append(parts, coverGrid{code: uf.grid.Code, idx: uf.idx, geom: uf.geom})
		}
		for _, g := range kept {
			gg, err := parseStored(g.Geometry)
			if err != nil {
				return nil, err
			}
			parts = append(parts, coverGrid{code: g.Code, idx: -1, geom: gg})
		}
		var communities []geo.Geometry
		if !replace {
			for code, r := range regions {
				if r.Level == LevelCommunity && r.Geometry != "" && !fileRegions[code] {
					g, err := parseStored(r.Geometry)
					if err != nil {
						return nil, err
					}
					communities = append(communities, g)
				}
			}
		}
		for _, r := range p.communities {
			if r.Geometry != "" {
				g, err := parseStored(r.Geometry)
				if err != nil {
					return nil, err
				}
				communities = append(communities, g)
			}
		}
		cov, hits, err := coverage(parts, communities, tol)
		if err != nil {
			return nil, err
		}
		rep.Coverage = cov
		for _, o := range hits {
			if o.idx < 0 {
				// Both grids were stored before this import: reported in
				// the coverage, not held against this file.
				continue
			}
			ps.add(Problem{FeatureIndex: o.idx, Code: o.B, Field: "geometry", Rule: RuleOverlap,
				ZH: fmt.Sprintf("与单元网格 %s 重叠 %.2f 平方米，超过允许的 %.2f 平方米", o.A, o.AreaM2, tol),
				EN: fmt.Sprintf("overlaps unit grid %s by %.2f m², more than the %.2f m² tolerated", o.A, o.AreaM2, tol)})
		}
	}
	sort.Strings(rep.Stale)
	return pl, nil
}

func parseStored(text string) (geo.Geometry, error) {
	g, err := geo.ParseGeometry([]byte(text))
	if err != nil {
		return geo.Geometry{}, fmt.Errorf("grid: stored geometry: %w", err)
	}
	return g, nil
}
