package geo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Position is one GeoJSON position: [longitude, latitude] in degrees. An
// altitude, if the input has one, is accepted and dropped because nothing in
// city management is located by height and a fixed-size array keeps the
// indexes compact.
type Position [2]float64

// Lon returns the longitude in degrees.
func (p Position) Lon() float64 { return p[0] }

// Lat returns the latitude in degrees.
func (p Position) Lat() float64 { return p[1] }

// Ring is a closed linear ring: the first and last positions are equal.
type Ring []Position

// Polygon is an exterior ring followed by zero or more holes.
type Polygon []Ring

// MultiPolygon is a set of polygons whose interiors do not overlap.
type MultiPolygon []Polygon

// GeometryType is the GeoJSON "type" member of a geometry.
type GeometryType string

// The seven GeoJSON geometry types.
const (
	TypePoint              GeometryType = "Point"
	TypeMultiPoint         GeometryType = "MultiPoint"
	TypeLineString         GeometryType = "LineString"
	TypeMultiLineString    GeometryType = "MultiLineString"
	TypePolygon            GeometryType = "Polygon"
	TypeMultiPolygon       GeometryType = "MultiPolygon"
	TypeGeometryCollection GeometryType = "GeometryCollection"
)

// maxCollectionDepth bounds GeometryCollection nesting. RFC 7946 §3.1.8
// discourages nesting at all; the bound keeps a hostile file from making the
// parser recurse (each level re-reads its raw JSON) without limit.
const maxCollectionDepth = 8

// Geometry is a GeoJSON geometry. It is a tagged union rather than an
// interface so that it can be compared with ==-like tools (go-cmp), copied by
// value and decoded without reflection on the hot path; only the field that
// matches Type is meaningful.
type Geometry struct {
	Type            GeometryType
	Point           Position
	MultiPoint      []Position
	LineString      []Position
	MultiLineString [][]Position
	Polygon         Polygon
	MultiPolygon    MultiPolygon
	Geometries      []Geometry // GeometryCollection members
}

// PointGeometry returns a Point geometry.
func PointGeometry(lon, lat float64) Geometry {
	return Geometry{Type: TypePoint, Point: Position{lon, lat}}
}

// PolygonGeometry returns a Polygon geometry.
func PolygonGeometry(p Polygon) Geometry { return Geometry{Type: TypePolygon, Polygon: p} }

// MultiPolygonGeometry returns a MultiPolygon geometry.
func MultiPolygonGeometry(mp MultiPolygon) Geometry {
	return Geometry{Type: TypeMultiPolygon, MultiPolygon: mp}
}

// Polygons returns the polygons of a Polygon or MultiPolygon geometry, and
// nil for every other type, so that area-like code handles both alike.
func (g Geometry) Polygons() []Polygon {
	switch g.Type {
	case TypePolygon:
		return []Polygon{g.Polygon}
	case TypeMultiPolygon:
		return g.MultiPolygon
	}
	return nil
}

// ParseGeometry decodes one GeoJSON geometry object. Structural errors come
// back as Problems with paths relative to the geometry ("coordinates[0][3]")
// so that a caller can prefix them with the feature's path. Numbers that
// overflow float64 (1e400) are kept as ±Inf for Validate to report as
// invalid_number with their position, rather than failing the whole parse.
func ParseGeometry(data []byte) (Geometry, error) {
	g, err := parseGeometry(data, 0)
	if err != nil {
		return Geometry{}, err
	}
	return g, nil
}

// UnmarshalJSON implements json.Unmarshaler with ParseGeometry.
func (g *Geometry) UnmarshalJSON(data []byte) error {
	v, err := ParseGeometry(data)
	if err != nil {
		return err
	}
	*g = v
	return nil
}

func parseGeometry(data []byte, depth int) (Geometry, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return Geometry{}, Problems{problem("", CodeWrongType,
			"几何对象必须是 JSON 对象", "a geometry must be a JSON object")}
	}
	var raw struct {
		Type        string            `json:"type"`
		Coordinates json.RawMessage   `json:"coordinates"`
		Geometries  []json.RawMessage `json:"geometries"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Geometry{}, jsonProblem("", err)
	}
	g := Geometry{Type: GeometryType(raw.Type)}
	if g.Type == TypeGeometryCollection {
		if depth >= maxCollectionDepth {
			return Geometry{}, Problems{problem("", CodeTooDeep,
				fmt.Sprintf("GeometryCollection 嵌套超过 %d 层", maxCollectionDepth),
				fmt.Sprintf("GeometryCollection nested more than %d levels deep", maxCollectionDepth))}
		}
		if raw.Geometries == nil {
			return Geometry{}, Problems{problem("geometries", CodeWrongType,
				"GeometryCollection 缺少 geometries 数组", "GeometryCollection has no geometries array")}
		}
		g.Geometries = make([]Geometry, 0, len(raw.Geometries))
		for i, m := range raw.Geometries {
			sub, err := parseGeometry(m, depth+1)
			if err != nil {
				return Geometry{}, prefixErr(fmt.Sprintf("geometries[%d]", i), err)
			}
			g.Geometries = append(g.Geometries, sub)
		}
		return g, nil
	}
	if len(raw.Coordinates) == 0 || string(raw.Coordinates) == "null" {
		if !knownType(g.Type) {
			return Geometry{}, unknownTypeProblem(raw.Type)
		}
		return Geometry{}, Problems{problem("coordinates", CodeWrongType,
			"几何对象缺少 coordinates", "the geometry has no coordinates")}
	}
	p := coordParser{b: raw.Coordinates}
	var err error
	switch g.Type {
	case TypePoint:
		g.Point, err = p.position()
	case TypeMultiPoint:
		g.MultiPoint, err = p.positions()
	case TypeLineString:
		g.LineString, err = p.positions()
	case TypeMultiLineString:
		err = p.array(func() error {
			l, err := p.positions()
			g.MultiLineString = append(g.MultiLineString, l)
			return err
		})
	case TypePolygon:
		g.Polygon, err = p.polygon()
	case TypeMultiPolygon:
		err = p.array(func() error {
			poly, err := p.polygon()
			g.MultiPolygon = append(g.MultiPolygon, poly)
			return err
		})
	default:
		return Geometry{}, unknownTypeProblem(raw.Type)
	}
	if err != nil {
		return Geometry{}, err
	}
	return g, nil
}

func knownType(t GeometryType) bool {
	switch t {
	case TypePoint, TypeMultiPoint, TypeLineString, TypeMultiLineString,
		TypePolygon, TypeMultiPolygon, TypeGeometryCollection:
		return true
	}
	return false
}

func unknownTypeProblem(t string) Problems {
	return Problems{problem("type", CodeWrongType,
		fmt.Sprintf("未知的几何类型 %q", t), fmt.Sprintf("unknown geometry type %q", t))}
}

// jsonProblem turns a decoding error into an invalid_json (syntax) or
// wrong_type (a member of the wrong JSON type) problem.
func jsonProblem(path string, err error) Problems {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if path != "" && field != "" {
			field = path + "." + field
		} else if field == "" {
			field = path
		}
		return Problems{problem(field, CodeWrongType,
			fmt.Sprintf("类型错误：应为 %s，实际为 JSON %s", te.Type, te.Value),
			fmt.Sprintf("wrong type: want %s, got JSON %s", te.Type, te.Value))}
	}
	return Problems{problem(path, CodeInvalidJSON,
		"JSON 格式错误："+err.Error(), "malformed JSON: "+err.Error())}
}

// coordParser reads the nested number arrays of a "coordinates" member that
// encoding/json has already checked for syntax. It is hand-written because
// decoding into [][][]float64 would reject 1e400 outright and would lose the
// position of a bad element; here the index stack gives exact paths.
type coordParser struct {
	b     []byte
	i     int
	stack []int
}

func (p *coordParser) path() string {
	var b []byte
	b = append(b, "coordinates"...)
	for _, i := range p.stack {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ']')
	}
	return string(b)
}

func (p *coordParser) skipSpace() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *coordParser) wrong(zh, en string) error {
	return Problems{problem(p.path(), CodeWrongType, zh, en)}
}

// array parses '[' elem (',' elem)* ']' calling elem for each element with
// the element's index on the path stack.
func (p *coordParser) array(elem func() error) error {
	p.skipSpace()
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return p.wrong("此处应为数组", "expected an array here")
	}
	p.i++
	p.stack = append(p.stack, 0)
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return nil
	}
	for n := 0; ; n++ {
		p.stack[len(p.stack)-1] = n
		if err := elem(); err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.b) {
			return p.wrong("数组未结束", "unterminated array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.wrong("数组元素之间应为逗号", "expected a comma between array elements")
		}
	}
}

func (p *coordParser) number() (float64, error) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	if start == p.i {
		return 0, p.wrong("此处应为数字", "expected a number here")
	}
	f, err := strconv.ParseFloat(string(p.b[start:p.i]), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, Problems{problem(p.path(), CodeInvalidNumber,
			"无法解析的数字", "unparseable number")}
	}
	// On overflow ParseFloat returns ±Inf, which Validate reports with
	// the position; underflow rounds to zero, which is harmless.
	return f, nil
}

func (p *coordParser) position() (Position, error) {
	var pos Position
	n := 0
	err := p.array(func() error {
		f, err := p.number()
		if n < 2 {
			pos[n] = f
		}
		n++
		return err
	})
	if err != nil {
		return pos, err
	}
	if n < 2 {
		return pos, p.wrong("坐标至少需要经度和纬度两个数", "a position needs at least longitude and latitude")
	}
	return pos, nil
}

func (p *coordParser) positions() ([]Position, error) {
	out := []Position{}
	err := p.array(func() error {
		pos, err := p.position()
		out = append(out, pos)
		return err
	})
	return out, err
}

func (p *coordParser) polygon() (Polygon, error) {
	poly := Polygon{}
	err := p.array(func() error {
		r, err := p.positions()
		poly = append(poly, Ring(r))
		return err
	})
	return poly, err
}

// MarshalJSON writes the geometry as RFC 7946 GeoJSON. Numbers keep their
// full float64 precision (shortest representation that reads back to the
// same value); non-finite numbers are an error because JSON cannot carry them.
func (g Geometry) MarshalJSON() ([]byte, error) {
	return g.appendJSON(nil, 0)
}

func (g Geometry) appendJSON(b []byte, depth int) ([]byte, error) {
	var err error
	b = append(b, `{"type":`...)
	b = strconv.AppendQuote(b, string(g.Type))
	if g.Type == TypeGeometryCollection {
		if depth >= maxCollectionDepth {
			return nil, errors.New("geo: GeometryCollection nested too deep")
		}
		b = append(b, `,"geometries":[`...)
		for i, sub := range g.Geometries {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = sub.appendJSON(b, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, "]}"...), nil
	}
	b = append(b, `,"coordinates":`...)
	switch g.Type {
	case TypePoint:
		b, err = appendPosition(b, g.Point)
	case TypeMultiPoint:
		b, err = appendPositions(b, g.MultiPoint)
	case TypeLineString:
		b, err = appendPositions(b, g.LineString)
	case TypeMultiLineString:
		b = append(b, '[')
		for i, l := range g.MultiLineString {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendPositions(b, l); err != nil {
				break
			}
		}
		b = append(b, ']')
	case TypePolygon:
		b, err = appendPolygon(b, g.Polygon)
	case TypeMultiPolygon:
		b = append(b, '[')
		for i, poly := range g.MultiPolygon {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendPolygon(b, poly); err != nil {
				break
			}
		}
		b = append(b, ']')
	default:
		return nil, fmt.Errorf("geo: cannot marshal geometry of type %q", g.Type)
	}
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func appendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("geo: cannot marshal non-finite coordinate %v", f)
	}
	// Same choice of notation as encoding/json, so output looks familiar.
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64), nil
}

func appendPosition(b []byte, p Position) ([]byte, error) {
	b = append(b, '[')
	b, err := appendFloat(b, p[0])
	if err != nil {
		return nil, err
	}
	b = append(b, ',')
	if b, err = appendFloat(b, p[1]); err != nil {
		return nil, err
	}
	return append(b, ']'), nil
}

func appendPositions(b []byte, ps []Position) ([]byte, error) {
	var err error
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendPosition(b, p); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

func appendPolygon(b []byte, poly Polygon) ([]byte, error) {
	var err error
	b = append(b, '[')
	for i, r := range poly {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendPositions(b, r); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}
