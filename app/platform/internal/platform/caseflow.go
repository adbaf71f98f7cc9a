package platform

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/cityops/cityops/app/pkg/calendar"
	"github.com/cityops/cityops/app/pkg/evidence"
	"github.com/cityops/cityops/app/platform/internal/biz/caseflow"
	"github.com/cityops/cityops/app/platform/internal/biz/component"
	"github.com/cityops/cityops/app/platform/internal/biz/grid"
	"github.com/cityops/cityops/app/platform/internal/biz/taxonomy"
)

// The case loop reads the registry through these adapters, so biz/caseflow
// depends on no other use case.

// caseLocator places reports with the grid index.
type caseLocator struct{ l *grid.Locator }

func (a caseLocator) Locate(ctx context.Context, tenantID int, lon, lat float64, crs string) (*caseflow.Place, error) {
	loc, err := a.l.LocateCRS(ctx, tenantID, lon, lat, crs)
	if err != nil {
		return nil, err
	}
	return &caseflow.Place{
		Lon: loc.Lon, Lat: loc.Lat, GridCode: loc.UnitGridCode, CommunityCode: loc.CommunityCode,
		StreetCode: loc.StreetCode, DistrictCode: loc.DistrictCode, AreaClass: loc.AreaClass,
	}, nil
}

// caseClasses checks classes against the tenant's taxonomy. Every report
// names a class, and the taxonomy changes a few times a year, so a class
// found is remembered for classTTL: a deactivated class is refused at most
// that long after.
type caseClasses struct {
	tax   *taxonomy.Usecase
	now   func() time.Time
	known sync.Map // tenant|kind|code → knownClass
	lists sync.Map // tenant → knownMinors
}

const classTTL = time.Minute

type knownClass struct {
	info    caseflow.ClassInfo
	expires time.Time
}

func newCaseClasses(tax *taxonomy.Usecase) *caseClasses { return &caseClasses{tax: tax, now: time.Now} }

func (a *caseClasses) Class(ctx context.Context, tenantCode string, kind caseflow.Kind, code string) (*caseflow.ClassInfo, error) {
	key := tenantCode + "|" + string(kind) + "|" + code
	if k, ok := a.known.Load(key); ok && a.now().Before(k.(knownClass).expires) {
		info := k.(knownClass).info
		return &info, nil
	}
	c, err := a.tax.GetClass(ctx, tenantCode, taxonomy.Kind(kind), code, 0)
	if err != nil {
		return nil, err
	}
	info := caseflow.ClassInfo{Kind: kind, NationalCode: c.NationalCode}
	a.known.Store(key, knownClass{info: info, expires: a.now().Add(classTTL)})
	return &info, nil
}

// Suggest implements caseflow.ClassSuggester: every two-character word of
// a minor class's name (暴露垃圾 → 暴露, 露垃, 垃圾) found in the text counts;
// the score is the share found, so 井盖丢失 proposes the manhole-cover
// classes first. The tenant's minor classes are read once a minute.
func (a *caseClasses) Suggest(ctx context.Context, tenantCode string, kind caseflow.Kind, text string, limit int) ([]caseflow.ClassSuggestion, error) {
	classes, err := a.minors(ctx, tenantCode)
	if err != nil {
		return nil, err
	}
	t := []rune(text)
	var out []caseflow.ClassSuggestion
	for _, c := range classes {
		if kind != "" && caseflow.Kind(c.Kind) != kind {
			continue
		}
		words := bigrams(c.NameZH)
		if len(words) == 0 {
			continue
		}
		found := 0
		for _, w := range words {
			if strings.Contains(string(t), w) {
				found++
			}
		}
		if found == 0 {
			continue
		}
		out = append(out, caseflow.ClassSuggestion{Kind: caseflow.Kind(c.Kind), ClassCode: c.Code, Name: c.NameZH,
			Score: float64(found) / float64(len(words))})
	}
	slices.SortStableFunc(out, func(x, y caseflow.ClassSuggestion) int {
		switch {
		case x.Score > y.Score:
			return -1
		case x.Score < y.Score:
			return 1
		}
		return strings.Compare(x.ClassCode, y.ClassCode)
	})
	return out[:min(len(out), limit)], nil
}

// bigrams are the two-character words of a class name, punctuation and
// the catch-all words 其他/问题 left out.
func bigrams(name string) []string {
	r := []rune(name)
	var out []string
	for i := 0; i+1 < len(r); i++ {
		w := string(r[i : i+2])
		if !unicode.Is(unicode.Han, r[i]) || !unicode.Is(unicode.Han, r[i+1]) || w == "其他" || w == "问题" {
			continue
		}
		out = append(out, w)
	}
	return out
}

type knownMinors struct {
	classes []taxonomy.Class
	expires time.Time
}

func (a *caseClasses) minors(ctx context.Context, tenantCode string) ([]taxonomy.Class, error) {
	if k, ok := a.lists.Load(tenantCode); ok && a.now().Before(k.(knownMinors).expires) {
		return k.(knownMinors).classes, nil
	}
	l, err := a.tax.ListClasses(ctx, tenantCode, taxonomy.Filter{Level: taxonomy.Minor})
	if err != nil {
		return nil, err
	}
	a.lists.Store(tenantCode, knownMinors{classes: l.Classes, expires: a.now().Add(classTTL)})
	return l.Classes, nil
}

// caseComponents finds the component a report concerns.
type caseComponents struct{ uc *component.Usecase }

func (a caseComponents) Component(ctx context.Context, tenantCode, objID string) (*caseflow.LinkedComponent, error) {
	c, err := a.uc.Get(ctx, tenantCode, objID)
	if err != nil {
		return nil, err
	}
	return &caseflow.LinkedComponent{ObjID: c.ObjID, ClassCode: c.ClassCode, Lon: c.Lon, Lat: c.Lat}, nil
}

// taxonomyLimits gives the disposal limit of a filing condition for the
// case's area class (立案条件 × 区域类别); a condition with staged limits
// (停工 → 处罚 → 拆除) counts its first stage, the one the department is
// held to first.
type taxonomyLimits struct{ tax *taxonomy.Usecase }

func (a taxonomyLimits) DisposeLimit(ctx context.Context, req caseflow.DeadlineRequest) (calendar.Duration, bool, error) {
	l, err := a.limit(ctx, req)
	if err != nil || l == nil {
		return calendar.Duration{}, false, err
	}
	return toDuration(l)
}

// DisposeStages implements caseflow.StagedLimits: the stages of a staged
// limit (停工 → 处罚 → 拆除) in order.
func (a taxonomyLimits) DisposeStages(ctx context.Context, req caseflow.DeadlineRequest) ([]caseflow.NamedLimit, bool, error) {
	l, err := a.limit(ctx, req)
	if err != nil || l == nil || len(l.Stages) == 0 {
		return nil, false, err
	}
	out := make([]caseflow.NamedLimit, 0, len(l.Stages))
	for i := range l.Stages {
		d, ok, _ := toDuration(&l.Stages[i])
		if !ok {
			return nil, false, nil
		}
		out = append(out, caseflow.NamedLimit{Stage: l.Stages[i].Stage, Limit: d})
	}
	return out, true, nil
}

// limit finds the time limit of the case's filing condition for its area
// class (or the condition's limit for every area class).
func (a taxonomyLimits) limit(ctx context.Context, req caseflow.DeadlineRequest) (*taxonomy.TimeLimit, error) {
	if req.FilingConditionCode == "" || req.ClassCode == "" || req.Kind == "" {
		return nil, nil
	}
	conds, err := a.tax.ListFilingConditions(ctx, req.TenantCode, taxonomy.Kind(req.Kind), req.ClassCode, 0)
	if err != nil {
		return nil, err
	}
	for _, c := range conds {
		if c.Code != req.FilingConditionCode {
			continue
		}
		var fallback *taxonomy.TimeLimit
		for i := range c.TimeLimits {
			l := &c.TimeLimits[i]
			if l.Stage != "" {
				continue
			}
			if l.AreaClass == req.AreaClass {
				return l, nil
			}
			if l.AreaClass == "" && fallback == nil {
				fallback = l
			}
		}
		return fallback, nil
	}
	return nil, nil
}

func toDuration(l *taxonomy.TimeLimit) (calendar.Duration, bool, error) {
	if l.Amount == 0 && len(l.Stages) > 0 {
		l = &l.Stages[0]
	}
	var u calendar.Unit
	if err := u.UnmarshalText([]byte(l.Unit)); err != nil {
		return calendar.Duration{}, false, nil
	}
	d := calendar.Duration{Amount: l.Amount, Unit: u}
	if d.Validate() != nil {
		return calendar.Duration{}, false, nil
	}
	return d, true, nil
}

// caseEvidence checks that attachment keys name the tenant's stored files.
type caseEvidence struct{ store *evidence.Store }

func (a caseEvidence) Check(ctx context.Context, tenantCode string, keys []string) error {
	for _, k := range keys {
		if _, err := a.store.Stat(ctx, tenantCode, k); err != nil {
			return caseflow.AttachmentError(err, k)
		}
	}
	return nil
}

// Review implements caseflow.EvidenceReviewer with evidence.Pair.
func (a caseEvidence) Review(ctx context.Context, tenantCode string, before, after []string) (map[string]string, error) {
	load := func(keys []string) ([]*evidence.Attachment, error) {
		out := make([]*evidence.Attachment, 0, len(keys))
		for _, k := range keys {
			at, err := a.store.Stat(ctx, tenantCode, k)
			if err != nil {
				return nil, caseflow.AttachmentError(err, k)
			}
			out = append(out, at)
		}
		return out, nil
	}
	b, err := load(before)
	if err != nil {
		return nil, err
	}
	af, err := load(after)
	if err != nil {
		return nil, err
	}
	rep := evidence.Pair(b, af, evidence.PairRule{})
	if len(rep.Reused) > 0 {
		return nil, caseflow.Invalid("attachments", "处置后照片与处置前照片相同，请上传处置后的现场照片",
			"an after-photo is the same file as a before-photo; upload a photo of the place after disposal")
	}
	notes := map[string]string{}
	if len(rep.Far) > 0 {
		notes["evidence_far"] = strings.Join(rep.Far, ",")
	}
	if len(rep.Earlier) > 0 {
		notes["evidence_earlier"] = strings.Join(rep.Earlier, ",")
	}
	return notes, nil
}

// CaseLoopOptions are the case loop's settings from the configuration.
type CaseLoopOptions struct {
	// PauseForApproval lists the tenants whose clock stops while a request
	// waits for approval; "*" means every tenant.
	PauseForApproval []string
	// NoFeedbackPhoto lets feedback go without an after-photo.
	NoFeedbackPhoto  bool
	DuplicateRadiusM float64
	DuplicateWindow  time.Duration
}

func (o CaseLoopOptions) pauses() func(string) bool {
	if len(o.PauseForApproval) == 0 {
		return nil
	}
	set := map[string]bool{}
	for _, c := range o.PauseForApproval {
		set[c] = true
	}
	return func(code string) bool { return set["*"] || set[code] }
}

func splitCodes(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}
