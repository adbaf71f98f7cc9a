package caseflow

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Place is where a report's point lies in the tenant's unit grids.
type Place struct {
	// Lon and Lat are the point in WGS84 after any conversion.
	Lon, Lat                                                     float64
	GridCode, CommunityCode, StreetCode, DistrictCode, AreaClass string
}

// Locator places a point in a tenant's unit grids (the grid index of the
// registry); a point in none answers OUTSIDE_JURISDICTION.
type Locator interface {
	Locate(ctx context.Context, tenantID int, lon, lat float64, crs string) (*Place, error)
}

// ClassInfo is what the tenant's taxonomy says of a class.
type ClassInfo struct {
	Kind         Kind
	NationalCode string
}

// Classes looks classes up in the tenant's taxonomy; an unknown class
// answers INVALID_ARGUMENT naming class_code.
type Classes interface {
	Class(ctx context.Context, tenantCode string, kind Kind, code string) (*ClassInfo, error)
}

// ClassSuggestion is a class proposed for a description.
type ClassSuggestion struct {
	Kind      Kind
	ClassCode string
	Name      string
	Score     float64
}

// ClassSuggester proposes classes for free text from the tenant's
// taxonomy (the hotline seat's class suggestion).
type ClassSuggester interface {
	Suggest(ctx context.Context, tenantCode string, kind Kind, text string, limit int) ([]ClassSuggestion, error)
}

// SuggestClass proposes classes for a description, best first.
func (u *Usecase) SuggestClass(ctx context.Context, kind Kind, text string, limit int) ([]ClassSuggestion, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	s, ok := u.cfg.Classes.(ClassSuggester)
	if !ok {
		return nil, nil
	}
	if limit <= 0 {
		limit = 5
	}
	return s.Suggest(ctx, v.TenantCode, kind, text, min(limit, 20))
}

// LinkedComponent is the component (部件) a report concerns.
type LinkedComponent struct {
	ObjID, ClassCode string
	Lon, Lat         float64
}

// Components finds a tenant's components; an unknown id answers
// INVALID_ARGUMENT naming component_obj_id.
type Components interface {
	Component(ctx context.Context, tenantCode, objID string) (*LinkedComponent, error)
}

// Evidence checks that attachment keys name files stored for the tenant.
type Evidence interface {
	Check(ctx context.Context, tenantCode string, keys []string) error
}

// EvidenceReviewer compares the after-photos of a feedback with the
// before-photos of its case (处置前后对比): it returns notes for the step's
// detail (photos taken far from the problem), or an error refusing the
// feedback (an "after" photo identical to a "before" one shows the problem,
// not its disposal). An Evidence that also implements it is asked on every
// feedback.
type EvidenceReviewer interface {
	Review(ctx context.Context, tenantCode string, before, after []string) (map[string]string, error)
}

// Duplicate is an open case that may report the same problem.
type Duplicate struct {
	Case      *Case
	DistanceM float64
}

// DuplicateQuery asks for open cases of a class near a point.
type DuplicateQuery struct {
	ClassCode string
	Lon, Lat  float64
	CRS       string
	RadiusM   float64
	Window    time.Duration
}

// Defaults of the duplicate check: the same class within 50 m reported in
// the last three days (DOMAIN §4.3: a seat sees candidates, merges by hand).
const (
	DefaultDuplicateRadiusM = 50
	DefaultDuplicateWindow  = 72 * time.Hour
	maxDuplicates           = 20
)

// openStates are the states of a case still being worked.
var openStates = []State{
	StateReported, StateVerifyPending, StateFiled, StateSelfHandled, StateDispatched, StateInDisposal,
	StateReturnPending, StateDelayPending, StateHangPending, StateHung, StateFeedback, StateCheckPending,
	StateClosePending, StateVoidPending,
}

// OpenStates lists the states of cases still being worked.
func OpenStates() []State { return slices.Clone(openStates) }

// place completes a report's location, class and component from the
// registry: the point is authoritative for grid, community, street,
// district and area class.
func (u *Usecase) place(ctx context.Context, tenantID int, tenantCode string, in *SubmitInput) error {
	if in.ComponentObjID != "" && u.cfg.Components != nil {
		comp, err := u.cfg.Components.Component(ctx, tenantCode, in.ComponentObjID)
		if err != nil {
			return err
		}
		if in.ClassCode == "" {
			in.ClassCode = comp.ClassCode
		}
		if in.Kind == KindComponent && in.ClassCode != comp.ClassCode {
			return invalid("class_code", fmt.Sprintf("部件 %s 属于小类 %s，与上报的小类 %s 不符", comp.ObjID, comp.ClassCode, in.ClassCode),
				fmt.Sprintf("component %s is of class %s, not %s", comp.ObjID, comp.ClassCode, in.ClassCode))
		}
	}
	if in.ClassCode != "" && u.cfg.Classes != nil {
		info, err := u.cfg.Classes.Class(ctx, tenantCode, in.Kind, in.ClassCode)
		if err != nil {
			return err
		}
		if in.NationalClassCode == "" {
			in.NationalClassCode = info.NationalCode
		}
	}
	if u.cfg.Locator != nil {
		p, err := u.cfg.Locator.Locate(ctx, tenantID, in.Lon, in.Lat, in.CRS)
		if err != nil {
			return err
		}
		in.Lon, in.Lat, in.CRS = p.Lon, p.Lat, ""
		in.GridCode, in.CommunityCode, in.StreetCode = p.GridCode, p.CommunityCode, p.StreetCode
		in.DistrictCode, in.AreaClass = p.DistrictCode, p.AreaClass
	}
	if in.CRS != "" && in.CRS != "WGS84" && in.CRS != "CGCS2000" {
		return invalid("crs", "未配置网格定位时坐标须为 WGS84", "without a grid locator points must be WGS84")
	}
	return nil
}

// Intaken is a new case with what intake found out about it.
type Intaken struct {
	Case *Case
	// Duplicates are open cases of its class nearby (not itself).
	Duplicates []Duplicate
	// Dispatch is the responsibility matrix's verdict, nil without a
	// dispatcher: applied when the case is filed.
	Dispatch *DispatchDecision
}

// Intake is Submit with the duplicate check and the dispatch preview, all
// in the creating transaction.
func (u *Usecase) Intake(ctx context.Context, in SubmitInput) (*Intaken, error) {
	out := &Intaken{}
	c, err := u.submit(ctx, in, func(ctx context.Context, c *Case) error {
		var err error
		if c.ClassCode != "" {
			if out.Duplicates, err = u.duplicates(ctx, DuplicateQuery{ClassCode: c.ClassCode, Lon: c.Lon, Lat: c.Lat}, ""); err != nil {
				return err
			}
		}
		if u.cfg.Dispatcher != nil {
			if out.Dispatch, err = u.cfg.Dispatcher.Decide(ctx, c); err != nil {
				return fmt.Errorf("dispatch preview: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Case = c
	return out, nil
}

// FindDuplicates returns open cases of a class near a point, nearest
// first, for a seat to check before creating a case.
func (u *Usecase) FindDuplicates(ctx context.Context, q DuplicateQuery) ([]Duplicate, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	if q.ClassCode == "" {
		return nil, invalid("class_code", "须指定小类", "a class is required")
	}
	if u.cfg.Locator != nil {
		p, err := u.cfg.Locator.Locate(ctx, v.TenantID, q.Lon, q.Lat, q.CRS)
		if err != nil {
			return nil, err
		}
		q.Lon, q.Lat = p.Lon, p.Lat
	}
	return u.duplicates(ctx, q, "")
}

func (u *Usecase) duplicates(ctx context.Context, q DuplicateQuery, except string) ([]Duplicate, error) {
	v, err := acting(ctx)
	if err != nil {
		return nil, err
	}
	if q.RadiusM <= 0 {
		q.RadiusM = u.cfg.DuplicateRadiusM
	}
	if q.Window <= 0 {
		q.Window = u.cfg.DuplicateWindow
	}
	// A box around the point narrows the read; the exact distance decides.
	dLat := q.RadiusM / 111_320
	dLon := q.RadiusM / (111_320 * math.Max(math.Cos(q.Lat*math.Pi/180), 0.01))
	since := u.now().Add(-q.Window)
	rows, err := u.repo.Near(ctx, NearQuery{
		ClassCode: q.ClassCode, MinLon: q.Lon - dLon, MaxLon: q.Lon + dLon, MinLat: q.Lat - dLat, MaxLat: q.Lat + dLat,
		Since: since, States: openStates, Limit: 200,
	})
	if err != nil {
		return nil, fmt.Errorf("duplicates: %w", err)
	}
	out := make([]Duplicate, 0, len(rows))
	for _, c := range rows {
		if c.Number == except {
			continue
		}
		if d := HaversineM(q.Lon, q.Lat, c.Lon, c.Lat); d <= q.RadiusM {
			out = append(out, Duplicate{Case: present(v, c), DistanceM: math.Round(d*10) / 10})
		}
	}
	slices.SortFunc(out, func(a, b Duplicate) int {
		if a.DistanceM != b.DistanceM {
			if a.DistanceM < b.DistanceM {
				return -1
			}
			return 1
		}
		return a.Case.ReportedAt.Compare(*b.Case.ReportedAt) * -1
	})
	if len(out) > maxDuplicates {
		out = out[:maxDuplicates]
	}
	return out, nil
}

// HaversineM is the great-circle distance in metres between two WGS84
// points.
func HaversineM(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6_371_008.8
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
