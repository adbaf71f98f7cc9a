package geo

import (
	"errors"
	"strings"
)

// Stable problem codes. Clients branch on Code, never on the message text.
const (
	CodeInvalidJSON      = "invalid_json"       // not JSON, or truncated
	CodeWrongType        = "wrong_type"         // a member has the wrong type or shape
	CodeTooDeep          = "too_deep"           // GeometryCollection nested too deep
	CodeInvalidNumber    = "invalid_number"     // NaN, ±Inf or an unparseable number
	CodeOutsideChina     = "outside_china"      // a position outside China's extent
	CodeSwappedLonLat    = "swapped_lon_lat"    // [lat, lon] given where [lon, lat] is required
	CodeTooFewPoints     = "too_few_points"     // ring < 4 positions, line < 2
	CodeRingNotClosed    = "ring_not_closed"    // first and last positions differ
	CodeSelfIntersection = "self_intersection"  // a ring crosses or touches itself
	CodeHoleOutsideShell = "hole_outside_shell" // a hole is not inside its exterior ring
	CodeHolesOverlap     = "holes_overlap"      // two holes of a polygon overlap
	CodePartsOverlap     = "parts_overlap"      // two polygons of a MultiPolygon overlap
	CodeEmptyGeometry    = "empty_geometry"     // no coordinates at all
	CodeUnsupportedType  = "unsupported_type"   // e.g. GeometryCollection where polygons are required
	CodeTooManyProblems  = "too_many_problems"  // the list was cut short
	CodeDegenerateRing   = "degenerate_ring"    // a ring that encloses no area
)

// Problem is one thing wrong with a geometry or a GeoJSON document, located
// precisely enough for an editor or an import report to point at it.
type Problem struct {
	// Path locates the offending value from the document root, with 0-based
	// indexes: "features[12].geometry.coordinates[0][3]".
	Path string
	// Code is one of the Code… constants.
	Code string
	ZH   string // Simplified Chinese message, for operators
	EN   string // English message, for logs and foreign readers
}

// Localize formats the problem as "path: message" in lang: "en" (or any
// "en-…" tag) for English, anything else for Simplified Chinese, the default
// because the people importing grids are Chinese operators.
func (p Problem) Localize(lang string) string {
	msg := p.ZH
	if isEnglish(lang) {
		msg = p.EN
	}
	if p.Path == "" {
		return msg
	}
	return p.Path + ": " + msg
}

// Error returns the problem in the default language (zh-CN).
func (p Problem) Error() string { return p.Localize("zh-CN") }

func isEnglish(lang string) bool {
	lang = strings.ToLower(strings.TrimSpace(lang))
	return lang == "en" || strings.HasPrefix(lang, "en-") || strings.HasPrefix(lang, "en_")
}

// Problems is every problem found; parsers return it as their error.
type Problems []Problem

// Localize formats one problem per line (see Problem.Localize).
func (ps Problems) Localize(lang string) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Localize(lang)
	}
	return strings.Join(lines, "\n")
}

// Error returns the problems in the default language (zh-CN), one per line.
func (ps Problems) Error() string { return ps.Localize("zh-CN") }

// Codes returns the codes in order, which is what tests and clients compare.
func (ps Problems) Codes() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Code
	}
	return out
}

func problem(path, code, zh, en string) Problem {
	return Problem{Path: path, Code: code, ZH: zh, EN: en}
}

// joinPath joins a prefix and a relative path: "features[3]" + "geometry"
// gives "features[3].geometry", while an index ("[0]") attaches directly.
func joinPath(prefix, rel string) string {
	switch {
	case prefix == "":
		return rel
	case rel == "":
		return prefix
	case rel[0] == '[':
		return prefix + rel
	}
	return prefix + "." + rel
}

// prefixErr prefixes the paths of Problems in err; other errors are
// returned unchanged.
func prefixErr(prefix string, err error) error {
	var ps Problems
	if !errors.As(err, &ps) {
		return err
	}
	out := make(Problems, len(ps))
	for i, p := range ps {
		p.Path = joinPath(prefix, p.Path)
		out[i] = p
	}
	return out
}
