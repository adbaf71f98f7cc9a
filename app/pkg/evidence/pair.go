package evidence

import (
	"math"
	"time"

	"github.com/cityops/cityops/app/pkg/geo"
)

// PairRule is what a case class demands of disposal feedback (处置反馈).
type PairRule struct {
	// RequireAfter demands at least one after photo.
	RequireAfter bool
	// NearMeters is how close an after photo must be to a before photo.
	// Default 200 m, the same reasoning as Config.MismatchMeters.
	NearMeters float64
}

// PairReport is the outcome of Pair. Keys identify the after photos at
// fault, so a reviewer can be shown which ones.
type PairReport struct {
	// MissingAfter is set when the rule requires an after photo and there
	// is none.
	MissingAfter bool
	// Compared counts the after photos that had a GPS position and a
	// before photo with a GPS position to compare with.
	Compared int
	// Far lists after photos farther than NearMeters from every before
	// photo: taken somewhere else.
	Far []string
	// Reused lists after photos byte-identical to a before photo: the
	// "after" shows the problem, not its disposal.
	Reused []string
	// Earlier lists after photos whose EXIF time precedes every before
	// photo's.
	Earlier []string
}

// OK reports whether nothing in the report needs a reviewer.
func (r PairReport) OK() bool {
	return !r.MissingAfter && len(r.Far) == 0 && len(r.Reused) == 0 && len(r.Earlier) == 0
}

// Near reports whether at least one after photo was compared by position
// and all compared ones were near a before photo — the positive finding
// "the after photos were taken where the before photos were".
func (r PairReport) Near() bool { return r.Compared > 0 && len(r.Far) == 0 }

// Pair checks the after photos of a case against its before photos. Nil
// entries are skipped. Missing GPS or EXIF time is not a finding; only
// positive evidence of a problem is.
func Pair(before, after []*Attachment, rule PairRule) PairReport {
	if rule.NearMeters <= 0 {
		rule.NearMeters = 200
	}
	var r PairReport
	hashes := make(map[string]bool, len(before))
	var earliest time.Time
	for _, b := range before {
		if b == nil {
			continue
		}
		if b.SHA256 != "" {
			hashes[b.SHA256] = true
		}
		if !b.TakenAt.IsZero() && (earliest.IsZero() || b.TakenAt.Before(earliest)) {
			earliest = b.TakenAt
		}
	}
	afters := 0
	for _, a := range after {
		if a == nil {
			continue
		}
		afters++
		if hashes[a.SHA256] {
			r.Reused = append(r.Reused, a.Key)
		}
		if !earliest.IsZero() && !a.TakenAt.IsZero() && a.TakenAt.Before(earliest) {
			r.Earlier = append(r.Earlier, a.Key)
		}
		if a.ExifLon == nil {
			continue
		}
		nearest, compared := math.Inf(1), false
		for _, b := range before {
			if b == nil || b.ExifLon == nil {
				continue
			}
			compared = true
			nearest = min(nearest, geo.Haversine(*a.ExifLon, *a.ExifLat, *b.ExifLon, *b.ExifLat))
		}
		if compared {
			r.Compared++
			if nearest > rule.NearMeters {
				r.Far = append(r.Far, a.Key)
			}
		}
	}
	r.MissingAfter = rule.RequireAfter && afters == 0
	return r
}
