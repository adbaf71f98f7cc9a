package taxonomy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	registryv1 "github.com/cityops/cityops/api/registry/v1"
	"github.com/cityops/cityops/app/pkg/viewer"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// Tenants resolves the tenant a tenant-scoped call names (the tenant use
// case implements it: the middleware's tenant, or an active tenant).
type Tenants interface {
	Scope(ctx context.Context, code string) (*tenant.Tenant, error)
}

// Usecase is what the API, cityctl and onboarding do with taxonomies.
type Usecase struct {
	repo    Repo
	tenants Tenants
	tx      Transaction
	ref     *Reference
}

// NewUsecase wires the taxonomy use cases and parses the reference data
// shipped with the platform.
func NewUsecase(repo Repo, tenants Tenants, tx Transaction) (*Usecase, error) {
	ref, err := LoadReference()
	if err != nil {
		return nil, err
	}
	return &Usecase{repo: repo, tenants: tenants, tx: tx, ref: ref}, nil
}

// Reference returns the reference data the use cases seed from.
func (u *Usecase) Reference() *Reference { return u.ref }

// scope resolves a tenant-scoped call's tenant. A viewer acting in
// another tenant gets TENANT_NOT_FOUND, exactly as for a tenant that does
// not exist, so a wrong route cannot cross tenants (the privacy rules
// would hide the rows anyway).
func (u *Usecase) scope(ctx context.Context, code string) (*tenant.Tenant, error) {
	v, ok := viewer.FromContext(ctx)
	if !ok {
		return nil, errorsv1.ErrorUnauthenticated("taxonomy: no viewer").WithMetadata(map[string]string{"detail": "no viewer"})
	}
	t, err := u.tenants.Scope(ctx, code)
	if err != nil {
		return nil, err
	}
	if !v.IsSystem() && v.TenantID != t.ID {
		return nil, tenant.NotFound(code)
	}
	return t, nil
}

// current returns the tenant's current version; Number is 0 when the
// tenant has no taxonomy yet.
func (u *Usecase) current(ctx context.Context, tenantID int) (Version, error) {
	vs, err := u.repo.Versions(ctx, tenantID)
	if err != nil {
		return Version{}, err
	}
	if len(vs) == 0 {
		return Version{}, nil
	}
	return vs[len(vs)-1], nil
}

// version resolves a requested version; 0 is the current one.
func (u *Usecase) version(ctx context.Context, tenantID, n int) (Version, error) {
	vs, err := u.repo.Versions(ctx, tenantID)
	if err != nil {
		return Version{}, err
	}
	if n == 0 {
		if len(vs) == 0 {
			return Version{}, nil
		}
		return vs[len(vs)-1], nil
	}
	for _, v := range vs {
		if v.Number == n {
			return v, nil
		}
	}
	return Version{}, invalid("version", fmt.Sprintf("分类体系版本 %d 不存在", n), fmt.Sprintf("taxonomy version %d does not exist", n))
}

// schemeOf returns the national scheme a version follows.
func schemeOf(v Version) Scheme {
	if s, ok := SchemeByID(v.Scheme); ok {
		return s
	}
	s, _ := SchemeByID(SchemeGB47678)
	return s
}

// requireTaxonomy refuses edits of a tenant that has no taxonomy yet.
func requireTaxonomy(v Version) error {
	if v.Number == 0 {
		return invalid("tenant_code", "该租户尚无分类体系，请先初始化（cityctl taxonomy seed）或导入分类表",
			"the tenant has no taxonomy yet; seed one (cityctl taxonomy seed) or import a table first")
	}
	return nil
}

// Seed copies a national scheme (SchemeGB47678 or SchemeCJT214) and the
// sample filing conditions into a tenant's taxonomy and reports how many
// classes it created. On a tenant without a taxonomy it creates version 1;
// on one whose current version follows the same scheme it adds only the
// national classes and sample conditions missing from it (so re-running
// is harmless, and a release that ships codes the transcription lacked
// reaches every tenant); on one that follows the other scheme it creates
// version N+1 with the new scheme, leaving N as it is (local classes are
// not carried over: their codes are built on the old scheme).
//
// Seeding is platform work (cityctl, onboarding) and runs as the system;
// callers authorize first.
func (u *Usecase) Seed(ctx context.Context, tenantID int, schemeID string) (created int, err error) {
	s, ok := SchemeByID(schemeID)
	if !ok {
		return 0, invalid("scheme", "未知的分类标准 "+schemeID+"（应为 "+SchemeGB47678+" 或 "+SchemeCJT214+"）",
			"unknown scheme "+schemeID+" (use "+SchemeGB47678+" or "+SchemeCJT214+")")
	}
	ctx = viewer.SystemContext(ctx, "taxonomy seed")
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := u.current(ctx, tenantID)
		if err != nil {
			return err
		}
		classes := u.ref.Classes(s.ID)
		conds := u.ref.SampleConditions(s.ID)
		version := cur.Number + 1
		if cur.Number > 0 && cur.Scheme == s.Standard {
			version = cur.Number
			if classes, conds, err = u.missing(ctx, tenantID, cur.Number, classes, conds); err != nil {
				return err
			}
		}
		for i := range classes {
			classes[i].Version = version
		}
		for i := range conds {
			conds[i].Version = version
		}
		if err := u.repo.CreateClasses(ctx, tenantID, classes); err != nil {
			return err
		}
		if err := u.repo.CreateConditions(ctx, tenantID, conds); err != nil {
			return err
		}
		created = len(classes)
		return nil
	})
	return created, err
}

// missing returns the classes and conditions not yet in version v.
func (u *Usecase) missing(ctx context.Context, tenantID, v int, classes []Class, conds []FilingCondition) ([]Class, []FilingCondition, error) {
	have, err := u.repo.ListClasses(ctx, tenantID, ClassQuery{Version: v, IncludeInactive: true})
	if err != nil {
		return nil, nil, err
	}
	known := make(map[classKey]bool, len(have))
	for _, c := range have {
		known[classKey{c.Kind, c.Code}] = true
	}
	haveConds, err := u.repo.ListConditions(ctx, tenantID, v, "", "")
	if err != nil {
		return nil, nil, err
	}
	knownCond := make(map[string]bool, len(haveConds))
	for _, c := range haveConds {
		knownCond[string(c.Kind)+"/"+c.ClassCode+"/"+c.Code] = true
	}
	var outC []Class
	for _, c := range classes {
		if !known[classKey{c.Kind, c.Code}] {
			outC = append(outC, c)
			known[classKey{c.Kind, c.Code}] = true
		}
	}
	var outF []FilingCondition
	for _, c := range conds {
		if known[classKey{c.Kind, c.ClassCode}] && !knownCond[string(c.Kind)+"/"+c.ClassCode+"/"+c.Code] {
			outF = append(outF, c)
		}
	}
	return outC, outF, nil
}

// Filter selects the classes ListClasses returns.
type Filter struct {
	Kind       Kind // "" for both
	Level      Level
	ParentCode string
	// Version is 0 for the current version.
	Version         int
	IncludeInactive bool
}

// Listing is the classes of one version.
type Listing struct {
	Version Version
	Classes []Class
}

// ListClasses lists the classes of a version, ordered by kind and code. A
// tenant without a taxonomy lists nothing.
func (u *Usecase) ListClasses(ctx context.Context, tenantCode string, f Filter) (*Listing, error) {
	t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, invalid("kind", "类别只能是 component 或 event", "the kind must be component or event")
	}
	v, err := u.version(ctx, t.ID, f.Version)
	if err != nil {
		return nil, err
	}
	out := &Listing{Version: v}
	if v.Number == 0 {
		return out, nil
	}
	out.Classes, err = u.repo.ListClasses(ctx, t.ID, ClassQuery{Version: v.Number, Kind: f.Kind, Level: f.Level,
		ParentCode: f.ParentCode, IncludeInactive: f.IncludeInactive})
	return out, err
}

// GetClass returns one class of a version (0: the current one).
func (u *Usecase) GetClass(ctx context.Context, tenantCode string, kind Kind, code string, version int) (*Class, error) {
	t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	return u.getClass(ctx, t, kind, code, version)
}

func (u *Usecase) getClass(ctx context.Context, t *tenant.Tenant, kind Kind, code string, version int) (*Class, error) {
	v, err := u.version(ctx, t.ID, version)
	if err != nil {
		return nil, err
	}
	if v.Number == 0 || !kind.Valid() {
		return nil, ClassNotFound(kind, code)
	}
	return u.repo.GetClass(ctx, t.ID, v.Number, kind, code)
}

// LocalClass is a tenant's own class to add or rename.
type LocalClass struct {
	Kind   Kind
	Code   string
	NameZH string
	NameEN string
	// NationalCode is the GB/T 47678.5-2026 code to report upward; "" for
	// none (a 细类 then reports its minor's).
	NationalCode string
}

// UpsertLocalClass adds a tenant's own class to the current version, or
// renames one it added before (re-activating it). The code says the level
// and the parent, which must exist and be active:
//   - an extension major: 90–99 (ExtensionMajorFrom);
//   - a local minor in a national major: the scheme's local range
//     (LocalMinorFrom–LocalMinorTo: 0190–0198 legacy, 01900–01999 in 2026);
//   - a minor in an extension major: any minor suffix but zero;
//   - a 细类 under any minor: the minor's code and two digits (01–99).
//
// National classes cannot be changed this way, and a code the national
// scheme uses (or reserves) cannot be taken.
func (u *Usecase) UpsertLocalClass(ctx context.Context, tenantCode string, in LocalClass) (*Class, bool, error) {
	t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, false, err
	}
	if !in.Kind.Valid() {
		return nil, false, invalid("kind", "类别只能是 component 或 event", "the kind must be component or event")
	}
	in.NameZH, in.NameEN = strings.TrimSpace(in.NameZH), strings.TrimSpace(in.NameEN)
	switch {
	case in.NameZH == "" || utf8.RuneCountInString(in.NameZH) > 128:
		return nil, false, invalid("name_zh", "中文名称不能为空，最多 128 字", "the Chinese name must be 1–128 characters")
	case utf8.RuneCountInString(in.NameEN) > 256:
		return nil, false, invalid("name_en", "英文名称最多 256 字", "the English name is at most 256 characters")
	}
	var out *Class
	created := false
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := u.current(ctx, t.ID)
		if err != nil {
			return err
		}
		if err := requireTaxonomy(cur); err != nil {
			return err
		}
		s := schemeOf(cur)
		lvl, ok := s.LevelOf(in.Code)
		if !ok {
			return codeInvalid("code", in.Code,
				fmt.Sprintf("按 %s，大类代码为 2 位、小类代码为 %d 位、细类代码为 %d 位数字", s.Standard, s.MinorLen(), s.DetailLen()),
				fmt.Sprintf("under %s a major code has 2 digits, a minor %d and a 细类 %d", s.Standard, s.MinorLen(), s.DetailLen()))
		}
		existing, err := u.repo.GetClass(ctx, t.ID, cur.Number, in.Kind, in.Code)
		switch {
		case err == nil && !existing.Local:
			return codeInvalid("code", in.Code, "这是国家标准中的分类，不能修改", "this is a national class; it cannot be changed")
		case err == nil:
		case isClassNotFound(err):
			existing = nil
			if err := u.checkLocalCode(s, in.Kind, in.Code, lvl); err != nil {
				return err
			}
		default:
			return err
		}
		parentCode := s.ParentOf(in.Code)
		if parentCode != "" {
			p, err := u.repo.GetClass(ctx, t.ID, cur.Number, in.Kind, parentCode)
			switch {
			case isClassNotFound(err):
				return codeInvalid("code", in.Code, "上级分类 "+parentCode+" 不存在", "the parent class "+parentCode+" does not exist")
			case err != nil:
				return err
			case !p.Active:
				return codeInvalid("code", in.Code, "上级分类 "+parentCode+" 已停用", "the parent class "+parentCode+" is deactivated")
			}
		}
		if in.NationalCode != "" {
			if _, ok := u.ref.Lookup(SchemeGB47678, in.Kind, in.NationalCode); !ok || len(in.NationalCode) != 5 {
				return codeInvalid("national_code", in.NationalCode, "不是 GB/T 47678.5-2026 中该类别的小类代码",
					"not a GB/T 47678.5-2026 minor code of this kind")
			}
		}
		if existing != nil {
			active := true
			if err := u.repo.UpdateClasses(ctx, t.ID, cur.Number, in.Kind, []string{in.Code},
				ClassUpdate{NameZH: &in.NameZH, NameEN: &in.NameEN, NationalCode: &in.NationalCode, Active: &active}); err != nil {
				return err
			}
		} else {
			c := Class{Kind: in.Kind, Level: lvl, Code: in.Code, ParentCode: parentCode, NameZH: in.NameZH, NameEN: in.NameEN,
				NationalCode: in.NationalCode, Scheme: SchemeLocal, Version: cur.Number, Local: true, Active: true}
			if err := u.repo.CreateClasses(ctx, t.ID, []Class{c}); err != nil {
				return err
			}
			created = true
		}
		out, err = u.repo.GetClass(ctx, t.ID, cur.Number, in.Kind, in.Code)
		return err
	})
	return out, created, err
}

// checkLocalCode applies the rules of UpsertLocalClass to a new code.
func (u *Usecase) checkLocalCode(s Scheme, kind Kind, code string, lvl Level) error {
	if u.ref.IsNational(s.ID, kind, code) {
		return codeInvalid("code", code, "该代码属于国家标准 "+s.Standard+"，不能用作本地分类", "the code belongs to the national scheme "+s.Standard+"; it cannot be a local class")
	}
	switch lvl {
	case Major:
		if suffix(code, 0) < ExtensionMajorFrom {
			return codeInvalid("code", code, fmt.Sprintf("不能新增国家标准大类；本地扩展大类使用 %d–99", ExtensionMajorFrom),
				fmt.Sprintf("national majors cannot be added; extension majors use %d–99", ExtensionMajorFrom))
		}
	case Minor:
		n := suffix(code, 2)
		switch {
		case suffix(code[:2], 0) >= ExtensionMajorFrom:
			if n <= 0 {
				return codeInvalid("code", code, "小类编号不能为 0", "the minor number cannot be 0")
			}
		case n < s.LocalMinorFrom || n > s.LocalMinorTo:
			w := s.MinorDigits
			return codeInvalid("code", code,
				fmt.Sprintf("国家标准大类中的本地小类编号应在 %0*d–%0*d 之间", w, s.LocalMinorFrom, w, s.LocalMinorTo),
				fmt.Sprintf("a local minor in a national major is numbered %0*d–%0*d", w, s.LocalMinorFrom, w, s.LocalMinorTo))
		}
	case Detail:
		if suffix(code, s.MinorLen()) <= 0 {
			return codeInvalid("code", code, "细类编号应为 01–99", "a 细类 is numbered 01–99")
		}
	}
	return nil
}

// DeactivateClass deactivates a class of the current version and its
// descendants and returns the class and the codes deactivated with it.
// The rows stay: cases filed under the class still resolve it.
func (u *Usecase) DeactivateClass(ctx context.Context, tenantCode string, kind Kind, code string) (*Class, []string, error) {
	t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, nil, err
	}
	if !kind.Valid() {
		return nil, nil, ClassNotFound(kind, code)
	}
	var out *Class
	var descendants []string
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := u.current(ctx, t.ID)
		if err != nil {
			return err
		}
		if cur.Number == 0 {
			return ClassNotFound(kind, code)
		}
		if _, err := u.repo.GetClass(ctx, t.ID, cur.Number, kind, code); err != nil {
			return err
		}
		all, err := u.repo.ListClasses(ctx, t.ID, ClassQuery{Version: cur.Number, Kind: kind})
		if err != nil {
			return err
		}
		codes := []string{code}
		for _, c := range all {
			if c.Code != code && strings.HasPrefix(c.Code, code) {
				codes = append(codes, c.Code)
				descendants = append(descendants, c.Code)
			}
		}
		inactive := false
		if err := u.repo.UpdateClasses(ctx, t.ID, cur.Number, kind, codes, ClassUpdate{Active: &inactive}); err != nil {
			return err
		}
		out, err = u.repo.GetClass(ctx, t.ID, cur.Number, kind, code)
		return err
	})
	return out, descendants, err
}

// Crosswalk returns the GB/T 47678.5-2026 code upward feeds carry for a
// class of the current version: its own national code, or for a 细类
// without one its minor's. "" means the class has no counterpart (the
// shipped crosswalk file says why for legacy classes).
func (u *Usecase) Crosswalk(ctx context.Context, tenantCode string, kind Kind, code string) (string, error) {
	t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return "", err
	}
	c, err := u.getClass(ctx, t, kind, code, 0)
	if err != nil {
		return "", err
	}
	if c.NationalCode != "" || c.Level != Detail {
		return c.NationalCode, nil
	}
	p, err := u.repo.GetClass(ctx, t.ID, c.Version, kind, c.ParentCode)
	if err != nil {
		return "", err
	}
	return p.NationalCode, nil
}

// ListFilingConditions lists the filing conditions of a class of a
// version (0: the current one), ordered by code.
func (u *Usecase) ListFilingConditions(ctx context.Context, tenantCode string, kind Kind, classCode string, version int) ([]FilingCondition, error) {
	t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	c, err := u.getClass(ctx, t, kind, classCode, version)
	if err != nil {
		return nil, err
	}
	return u.repo.ListConditions(ctx, t.ID, c.Version, kind, classCode)
}

// ValidateFilingCondition checks a filing condition's own fields (not its
// class): code, texts, urgency and time limits.
func ValidateFilingCondition(c *FilingCondition) error {
	c.FilingText, c.ClosingText = strings.TrimSpace(c.FilingText), strings.TrimSpace(c.ClosingText)
	switch {
	case !c.Kind.Valid():
		return invalid("kind", "类别只能是 component 或 event", "the kind must be component or event")
	case !ValidConditionCode(c.Code):
		return invalid("code", "立案条件编码只能由 1–32 位字母、数字、点、横线或下划线组成", "the condition code is 1–32 letters, digits, dots, dashes or underscores")
	case c.FilingText == "" || utf8.RuneCountInString(c.FilingText) > MaxCellRunes:
		return invalid("filing_text", fmt.Sprintf("立案条件不能为空，最多 %d 字", MaxCellRunes), fmt.Sprintf("the filing condition must be 1–%d characters", MaxCellRunes))
	case utf8.RuneCountInString(c.ClosingText) > MaxCellRunes:
		return invalid("closing_text", fmt.Sprintf("结案条件最多 %d 字", MaxCellRunes), fmt.Sprintf("the closing condition is at most %d characters", MaxCellRunes))
	}
	switch c.Urgency {
	case "":
		c.Urgency = Normal
	case Normal, Urgent:
	default:
		return invalid("urgency", "紧急程度只能是 normal 或 urgent", "the urgency must be normal or urgent")
	}
	if vs := ValidateTimeLimits(c.TimeLimits); len(vs) > 0 {
		return invalidLimits(vs)
	}
	return nil
}

// UpsertFilingCondition adds or replaces a filing condition of a minor
// class or 细类 of the current version and reports whether it was new.
func (u *Usecase) UpsertFilingCondition(ctx context.Context, tenantCode string, c FilingCondition) (*FilingCondition, bool, error) {
	t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, false, err
	}
	c.TimeLimits = cloneLimits(c.TimeLimits)
	if err := ValidateFilingCondition(&c); err != nil {
		return nil, false, err
	}
	created := false
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := u.current(ctx, t.ID)
		if err != nil {
			return err
		}
		if cur.Number == 0 {
			return ClassNotFound(c.Kind, c.ClassCode)
		}
		cls, err := u.repo.GetClass(ctx, t.ID, cur.Number, c.Kind, c.ClassCode)
		switch {
		case err != nil:
			return err
		case cls.Level == Major:
			return codeInvalid("class_code", c.ClassCode, "立案条件属于小类或细类，不能挂在大类上", "filing conditions belong to minor classes or 细类, not to majors")
		case !cls.Active:
			return codeInvalid("class_code", c.ClassCode, "该分类已停用", "the class is deactivated")
		}
		c.Version = cur.Number
		created, err = u.repo.UpsertCondition(ctx, t.ID, c)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return &c, created, nil
}

// ImportInput is a classification table to import.
type ImportInput struct {
	Data   []byte
	Format Format // "" detects
	// DefaultKind is the kind of every row of a file without a 类别 column.
	DefaultKind Kind
	// SkipBad imports the good rows of a file with bad ones; the bad rows
	// come back in ImportResult.Problems. Without it a single bad row
	// rejects the file and nothing is written.
	SkipBad bool
	// ValidateOnly checks the file and writes nothing.
	ValidateOnly bool
}

// ImportResult says what an import did.
type ImportResult struct {
	// Version is the version written, or the current one when nothing
	// changed (Unchanged) or nothing was written (ValidateOnly).
	Version    int
	Unchanged  bool
	Classes    int
	Conditions int
	// Problems are the rows skipped (SkipBad) or found bad (ValidateOnly).
	Problems Problems
}

// Import reads a classification table and writes it as version N+1, in
// one transaction. Every row is checked before anything is written; a
// file with bad rows is refused as a whole with IMPORT_REJECTED listing
// each problem (line, column, zh and en), unless SkipBad. The file
// replaces the kinds it covers; the other kind is carried over from
// version N unchanged. A file equal to the current version creates no
// version. English names, which the table has no column for, are kept
// for the codes the current version already has.
func (u *Usecase) Import(ctx context.Context, tenantCode string, in ImportInput) (*ImportResult, error) {
	t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	if len(in.Data) == 0 {
		return nil, ImportRejected(Problems{{ZH: "文件为空", EN: "the file is empty"}})
	}
	if len(in.Data) > MaxImportBytes {
		return nil, ImportRejected(Problems{{ZH: fmt.Sprintf("文件过大：最多 %d 字节", MaxImportBytes), EN: fmt.Sprintf("the file is too large: at most %d bytes", MaxImportBytes)}})
	}
	if in.DefaultKind != "" && !in.DefaultKind.Valid() {
		return nil, invalid("default_kind", "默认类别只能是 component 或 event", "the default kind must be component or event")
	}
	cur, err := u.current(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	tbl, probs := ParseTable(in.Data, ParseOptions{Format: in.Format, DefaultKind: in.DefaultKind, SchemeHint: cur.Scheme, Reference: u.ref})
	if tbl == nil {
		return nil, ImportRejected(probs)
	}
	if in.ValidateOnly {
		return &ImportResult{Version: cur.Number, Classes: len(tbl.Classes), Conditions: len(tbl.Conditions), Problems: probs}, nil
	}
	if len(probs) > 0 && !in.SkipBad {
		return nil, ImportRejected(probs)
	}
	if len(tbl.Classes) == 0 {
		return nil, ImportRejected(append(probs, Problem{ZH: "文件中没有可导入的分类", EN: "the file holds no class to import"}))
	}
	res := &ImportResult{Problems: probs}
	err = u.tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := u.current(ctx, t.ID)
		if err != nil {
			return err
		}
		var oldClasses []Class
		var oldConds []FilingCondition
		if cur.Number > 0 {
			if oldClasses, err = u.repo.ListClasses(ctx, t.ID, ClassQuery{Version: cur.Number, IncludeInactive: true}); err != nil {
				return err
			}
			if oldConds, err = u.repo.ListConditions(ctx, t.ID, cur.Number, "", ""); err != nil {
				return err
			}
		}
		classes, conds, err := u.assemble(tbl, cur, oldClasses, oldConds)
		if err != nil {
			return err
		}
		res.Classes, res.Conditions = len(classes), len(conds)
		if cur.Number > 0 && sameVersion(classes, conds, oldClasses, oldConds) {
			res.Version, res.Unchanged = cur.Number, true
			return nil
		}
		res.Version = cur.Number + 1
		for i := range classes {
			classes[i].Version = res.Version
		}
		for i := range conds {
			conds[i].Version = res.Version
		}
		if err := u.repo.CreateClasses(ctx, t.ID, classes); err != nil {
			return err
		}
		return u.repo.CreateConditions(ctx, t.ID, conds)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// assemble builds the next version from a parsed table and the current
// version: the table's kinds from the table (national or local by the
// shipped scheme, national codes derived where the table gives none), the
// other kind carried over.
func (u *Usecase) assemble(tbl *Table, cur Version, oldClasses []Class, oldConds []FilingCondition) ([]Class, []FilingCondition, error) {
	s := tbl.Scheme
	old := make(map[classKey]Class, len(oldClasses))
	for _, c := range oldClasses {
		old[classKey{c.Kind, c.Code}] = c
	}
	var classes []Class
	for _, c := range tbl.Classes {
		national := c.Level != Detail && u.ref.IsNational(s.ID, c.Kind, c.Code)
		c.Local = !national
		c.Scheme = SchemeLocal
		if national {
			c.Scheme = s.Standard
		}
		if c.NationalCode == "" && national {
			if s.ID == SchemeGB47678 {
				c.NationalCode = c.Code
			} else if e, ok := u.ref.byLegacy[classKey{c.Kind, c.Code}]; ok {
				c.NationalCode = e.NationalCode
			}
		}
		if o, ok := old[classKey{c.Kind, c.Code}]; ok {
			c.NameEN = o.NameEN
		}
		classes = append(classes, c)
	}
	conds := slices.Clone(tbl.Conditions)
	for _, k := range Kinds() {
		if slices.Contains(tbl.Kinds, k) {
			continue
		}
		var carried []Class
		for _, c := range oldClasses {
			if c.Kind == k {
				carried = append(carried, c)
			}
		}
		if len(carried) == 0 {
			continue
		}
		if cur.Scheme != s.Standard {
			zh, en := kindNames(k)
			return nil, nil, ImportRejected(Problems{{
				ZH: "文件按 " + s.Standard + " 编码，而当前分类体系按 " + cur.Scheme + "；更换标准时文件必须同时包含部件和事件（缺少" + zh + "）",
				EN: "the file follows " + s.Standard + " but the current taxonomy follows " + cur.Scheme + "; a change of scheme must cover both kinds (" + en + " is missing)",
			}})
		}
		classes = append(classes, carried...)
		for _, c := range oldConds {
			if c.Kind == k {
				c.TimeLimits = cloneLimits(c.TimeLimits)
				conds = append(conds, c)
			}
		}
	}
	return classes, conds, nil
}

// sameVersion reports whether two versions hold the same classes and
// conditions, whatever their order and version numbers.
func sameVersion(c1 []Class, f1 []FilingCondition, c2 []Class, f2 []FilingCondition) bool {
	if len(c1) != len(c2) || len(f1) != len(f2) {
		return false
	}
	// Version numbers and creation times differ between versions by
	// construction; everything else must match.
	norm := func(c Class) Class { c.Version, c.CreatedAt = 0, time.Time{}; return c }
	byKey := make(map[classKey]Class, len(c2))
	for _, c := range c2 {
		byKey[classKey{c.Kind, c.Code}] = c
	}
	for _, c := range c1 {
		o, ok := byKey[classKey{c.Kind, c.Code}]
		if !ok || norm(c) != norm(o) {
			return false
		}
	}
	condKey := func(c FilingCondition) string { return string(c.Kind) + "/" + c.ClassCode + "/" + c.Code }
	byCond := make(map[string]FilingCondition, len(f2))
	for _, c := range f2 {
		byCond[condKey(c)] = c
	}
	for _, c := range f1 {
		o, ok := byCond[condKey(c)]
		if !ok || c.FilingText != o.FilingText || c.ClosingText != o.ClosingText || c.Urgency != o.Urgency || !sameLimits(c.TimeLimits, o.TimeLimits) {
			return false
		}
	}
	return true
}

// ExportInput selects what to export.
type ExportInput struct {
	Format Format // csv (default) or xlsx
	Kind   Kind   // "" for both
	// Version is 0 for the current version.
	Version int
}

// ExportResult is an exported table.
type ExportResult struct {
	Data        []byte
	ContentType string
	Filename    string
	Version     int
	Rows        int
}

// Export writes a version of the tenant's taxonomy, inactive classes
// included (状态 停用), as the classification table Import reads.
func (u *Usecase) Export(ctx context.Context, tenantCode string, in ExportInput) (*ExportResult, error) {
	t, err := u.scope(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	if in.Format == "" {
		in.Format = FormatCSV
	}
	if in.Format != FormatCSV && in.Format != FormatXLSX {
		return nil, invalid("format", "导出格式只能是 csv 或 xlsx", "the format must be csv or xlsx")
	}
	if in.Kind != "" && !in.Kind.Valid() {
		return nil, invalid("kind", "类别只能是 component 或 event", "the kind must be component or event")
	}
	v, err := u.version(ctx, t.ID, in.Version)
	if err != nil {
		return nil, err
	}
	var classes []Class
	var conds []FilingCondition
	if v.Number > 0 {
		if classes, err = u.repo.ListClasses(ctx, t.ID, ClassQuery{Version: v.Number, Kind: in.Kind, IncludeInactive: true}); err != nil {
			return nil, err
		}
		if conds, err = u.repo.ListConditions(ctx, t.ID, v.Number, in.Kind, ""); err != nil {
			return nil, err
		}
	}
	data, rows, err := WriteTable(in.Format, classes, conds)
	if err != nil {
		return nil, err
	}
	ct := "text/csv; charset=utf-8"
	if in.Format == FormatXLSX {
		ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return &ExportResult{Data: data, ContentType: ct, Version: v.Number, Rows: rows,
		Filename: fmt.Sprintf("taxonomy-%s-v%d.%s", t.Code, v.Number, in.Format)}, nil
}

func isClassNotFound(err error) bool { return err != nil && registryv1.IsClassNotFound(err) }
