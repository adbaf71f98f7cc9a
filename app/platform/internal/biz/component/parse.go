package component

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/cityops/cityops/app/pkg/geo"
)

// The attribute columns of a census file. The order is the export order.
const (
	colObjID = iota
	colName
	colClassCode
	colMainDeptCode
	colMainDeptName
	colOwnerCode
	colOwnerName
	colMaintainerCode
	colMaintainerName
	colGridCode
	colStreetCode
	colCommunityCode
	colStatus
	colInitialDate
	colChangeDate
	colDataSource
	colNote
	colLon
	colLat
	colCRS
	// Accepted (the 2026 table has them) but not stored: the codes are.
	colStreetName
	colCommunityName
	numCols
)

// column is one attribute: its key (also the English column name), the
// Chinese name cities use, and the other spellings seen in practice — the
// legacy field abbreviations (ObjID, DeptCode1 …, DOMAIN §3.1) and the
// 2026 pinyin initials (GLBJBSM …, §3.2).
type column struct {
	key, zh string
	aliases []string
}

var columns = [numCols]column{
	colObjID:          {"obj_id", "标识码", []string{"部件标识码", "管理部件标识码", "部件编码", "ObjID", "GLBJBSM", "BSM"}},
	colName:           {"name", "名称", []string{"部件名称", "管理部件名称", "ObjName", "GLBJMC"}},
	colClassCode:      {"class_code", "小类代码", []string{"部件小类代码", "小类编码", "ClassCode", "XLDM"}},
	colMainDeptCode:   {"main_dept_code", "主管部门代码", []string{"DeptCode1", "ZGBMDM"}},
	colMainDeptName:   {"main_dept_name", "主管部门名称", []string{"DeptName1", "ZGBMMC"}},
	colOwnerCode:      {"owner_code", "权属单位代码", []string{"DeptCode2", "QSDWDM"}},
	colOwnerName:      {"owner_name", "权属单位名称", []string{"DeptName2", "QSDWMC"}},
	colMaintainerCode: {"maintainer_code", "养护单位代码", []string{"DeptCode3", "YHDWDM"}},
	colMaintainerName: {"maintainer_name", "养护单位名称", []string{"DeptName3", "YHDWMC"}},
	colGridCode:       {"grid_code", "所在单元网格", []string{"所在单元网格标识码", "单元网格", "BGID", "SZDYWGBSM"}},
	colStreetCode:     {"street_code", "所在街道代码", []string{"所在街道(镇、乡)代码", "所在街道（镇、乡）代码", "SZJDDM"}},
	colCommunityCode:  {"community_code", "所在社区代码", []string{"所在社区(村)代码", "所在社区（村）代码", "SZSQDM"}},
	colStatus:         {"status", "部件状态", []string{"管理部件状态", "状态", "ObjState", "GLBJZT"}},
	colInitialDate:    {"initial_date", "初始日期", []string{"ORDate", "CSRQ"}},
	colChangeDate:     {"change_date", "变更日期", []string{"CHDate", "BGRQ"}},
	colDataSource:     {"data_source", "数据来源", []string{"DataSource", "SJLY"}},
	colNote:           {"note", "备注", []string{"Note", "BZ"}},
	colLon:            {"lon", "经度", []string{"longitude", "lng", "x"}},
	colLat:            {"lat", "纬度", []string{"latitude", "y"}},
	colCRS:            {"crs", "坐标系", []string{"coordinate_system", "坐标系统"}},
	colStreetName:     {"street_name", "所在街道名称", []string{"SZJDMC"}},
	colCommunityName:  {"community_name", "所在社区名称", []string{"SZSQMC"}},
}

// exportCols are the columns an export writes (and an import reads back).
var exportCols = []int{
	colObjID, colName, colClassCode, colMainDeptCode, colMainDeptName, colOwnerCode, colOwnerName,
	colMaintainerCode, colMaintainerName, colGridCode, colStreetCode, colCommunityCode, colStatus,
	colInitialDate, colChangeDate, colDataSource, colNote, colLon, colLat, colCRS,
}

// columnByName resolves a header cell: case-insensitive for Latin names,
// blind to surrounding spaces and full-width parentheses variants listed.
var columnByName = func() map[string]int {
	m := make(map[string]int, numCols*6)
	for i, c := range columns {
		m[strings.ToLower(c.key)] = i
		m[c.zh] = i
		for _, a := range c.aliases {
			m[strings.ToLower(a)] = i
		}
	}
	return m
}()

func lookupColumn(name string) (int, bool) {
	i, ok := columnByName[strings.ToLower(strings.TrimSpace(name))]
	return i, ok
}

// row is one record of a census file before validation.
type row struct {
	line  int64 // CSV line of the record's start, or 1-based feature number
	vals  [numCols]string
	geom  *geo.Geometry // GeoJSON only
	fault *Problem      // the record could not be read as a row
}

// names are the column names as a file spells them, for rejection reports.
type names [numCols]string

func defaultNames() names {
	var n names
	for i, c := range columns {
		n[i] = c.zh
	}
	return n
}

// Encodings an import reports.
const (
	EncodingUTF8    = "UTF-8"
	EncodingUTF8BOM = "UTF-8 BOM"
	EncodingGBK     = "GBK"
	EncodingGeoJSON = "GeoJSON"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// sniffer reads a whole file once for its SHA-256 and, on the way, whether
// it is valid UTF-8 and starts with a BOM. Deciding on the whole file rather
// than a prefix means a GBK file whose first megabyte is ASCII is still read
// as GBK.
type sniffer struct {
	h       hash.Hash
	n       int64
	head    []byte // the first bytes, for the BOM
	carry   []byte // an incomplete rune at the end of the last chunk
	invalid bool
}

func newSniffer() *sniffer { return &sniffer{h: sha256.New()} }

func (s *sniffer) Write(p []byte) (int, error) {
	s.h.Write(p)
	s.n += int64(len(p))
	if len(s.head) < 3 {
		s.head = append(s.head, p[:min(len(p), 3-len(s.head))]...)
	}
	if s.invalid {
		return len(p), nil
	}
	buf := p
	if len(s.carry) > 0 {
		buf = append(s.carry, p...)
		s.carry = nil
	}
	// Hold back a trailing partial rune (at most 3 bytes) for the next chunk.
	end := len(buf)
	for i := 1; i <= 3 && i <= len(buf); i++ {
		b := buf[len(buf)-i]
		if b < 0x80 {
			break
		}
		if utf8.RuneStart(b) {
			if !utf8.FullRune(buf[len(buf)-i:]) {
				end = len(buf) - i
			}
			break
		}
	}
	if !utf8.Valid(buf[:end]) {
		s.invalid = true
		return len(p), nil
	}
	s.carry = append([]byte(nil), buf[end:]...)
	return len(p), nil
}

func (s *sniffer) checksum() string { return hex.EncodeToString(s.h.Sum(nil)) }

// encoding is the CSV encoding: a BOM says UTF-8, valid UTF-8 is UTF-8,
// anything else is taken for GBK (GB 18030's common subset), which is what
// Excel on a Chinese Windows writes.
func (s *sniffer) encoding() string {
	switch {
	case bytes.HasPrefix(s.head, utf8BOM):
		return EncodingUTF8BOM
	case s.invalid || len(s.carry) > 0:
		return EncodingGBK
	}
	return EncodingUTF8
}

// decode wraps r (positioned at the file's start) to yield UTF-8 text.
func decode(r io.Reader, enc string) (io.Reader, error) {
	switch enc {
	case EncodingUTF8BOM:
		var bom [3]byte
		if _, err := io.ReadFull(r, bom[:]); err != nil {
			return nil, err
		}
		return r, nil
	case EncodingGBK:
		return transform.NewReader(r, simplifiedchinese.GBK.NewDecoder()), nil
	}
	return r, nil
}

// csvRows reads the records of a census CSV file after its header.
type csvRows struct {
	r     *csv.Reader
	index []int // file column → attribute, -1 for an ignored empty header
	names names
}

// newCSVRows reads the header. Unknown columns and missing required ones
// (标识码, 经度, 纬度) reject the file as a whole: a file whose columns are
// not understood would otherwise import silently wrong data.
func newCSVRows(r io.Reader) (*csvRows, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true // spreadsheets write stray quotes inside fields
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ImportRejected("文件为空，缺少表头", "the file is empty; it has no header row")
		}
		return nil, ImportRejected("无法读取表头："+err.Error(), "cannot read the header row: "+err.Error())
	}
	c := &csvRows{r: cr, index: make([]int, len(header)), names: defaultNames()}
	var unknown, dup []string
	var seen [numCols]bool
	for i, h := range header {
		h = strings.TrimPrefix(h, "\uFEFF")
		if strings.TrimSpace(h) == "" {
			c.index[i] = -1
			continue
		}
		k, ok := lookupColumn(h)
		if !ok {
			unknown = append(unknown, h)
			continue
		}
		if seen[k] {
			dup = append(dup, h)
			continue
		}
		seen[k] = true
		c.index[i] = k
		c.names[k] = strings.TrimSpace(h)
	}
	var missing []string
	for _, k := range []int{colObjID, colLon, colLat} {
		if !seen[k] {
			missing = append(missing, columns[k].zh+"("+columns[k].key+")")
		}
	}
	if len(unknown)+len(dup)+len(missing) > 0 {
		var zh, en []string
		if len(unknown) > 0 {
			zh = append(zh, "未知的列："+strings.Join(unknown, "、"))
			en = append(en, "unknown columns: "+strings.Join(unknown, ", "))
		}
		if len(dup) > 0 {
			zh = append(zh, "重复的列："+strings.Join(dup, "、"))
			en = append(en, "duplicate columns: "+strings.Join(dup, ", "))
		}
		if len(missing) > 0 {
			zh = append(zh, "缺少必需的列："+strings.Join(missing, "、"))
			en = append(en, "missing required columns: "+strings.Join(missing, ", "))
		}
		return nil, ImportRejected(strings.Join(zh, "；"), strings.Join(en, "; "))
	}
	return c, nil
}

// next reads one record. A record that cannot be parsed comes back with a
// fault rather than as an error, so one bad line does not stop the file;
// err is io.EOF at the end, or an I/O error.
func (c *csvRows) next() (row, error) {
	rec, err := c.r.Read()
	line, _ := c.r.FieldPos(0)
	var r row
	r.line = int64(line)
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			r.line = int64(pe.StartLine)
			r.fault = problem("", ReasonMalformedRow, "无法解析该行：%v", "cannot parse the line: %v", pe.Err)
			return r, nil
		}
		return r, err
	}
	if len(rec) != len(c.index) {
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			return c.next() // a blank line
		}
		r.fault = problem("", ReasonMalformedRow, "该行有 %d 列，表头有 %d 列", "the line has %d fields; the header has %d", len(rec), len(c.index))
		return r, nil
	}
	for i, v := range rec {
		if k := c.index[i]; k >= 0 {
			r.vals[k] = strings.TrimSpace(v)
		}
	}
	return r, nil
}

// geoRows reads the features of a GeoJSON FeatureCollection one at a time.
// It walks the collection itself and hands each feature to geo.ParseFeature,
// rather than using geo.ParseFeatureCollection, because that stops at the
// first bad feature while an import must reject the one feature and go on.
type geoRows struct {
	dec   *json.Decoder
	n     int64
	names names
	done  bool
}

func newGeoRows(r io.Reader) (*geoRows, error) {
	g := &geoRows{dec: json.NewDecoder(r), names: defaultNames()}
	g.dec.UseNumber()
	if err := g.seekFeatures(); err != nil {
		return nil, ImportRejected("不是有效的 GeoJSON FeatureCollection："+err.Error(), "not a valid GeoJSON FeatureCollection: "+err.Error())
	}
	return g, nil
}

// seekFeatures advances to the first element of "features", skipping the
// members before it (type, crs, name, bbox).
func (g *geoRows) seekFeatures() error {
	if tok, err := g.dec.Token(); err != nil {
		return err
	} else if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("expected an object, got %v", tok)
	}
	for g.dec.More() {
		tok, err := g.dec.Token()
		if err != nil {
			return err
		}
		if key, _ := tok.(string); key == "features" {
			tok, err := g.dec.Token()
			if err != nil {
				return err
			}
			if d, ok := tok.(json.Delim); !ok || d != '[' {
				return fmt.Errorf("features must be an array")
			}
			return nil
		}
		var skip json.RawMessage
		if err := g.dec.Decode(&skip); err != nil {
			return err
		}
	}
	return fmt.Errorf("no features member")
}

// next reads one feature; io.EOF after the last. Members after "features"
// are not read: nothing there changes the components.
func (g *geoRows) next() (row, error) {
	if g.done || !g.dec.More() {
		g.done = true
		return row{}, io.EOF
	}
	g.n++
	r := row{line: g.n}
	var raw json.RawMessage
	if err := g.dec.Decode(&raw); err != nil {
		// Broken JSON cannot be resynchronized: stop here.
		g.done = true
		return r, fmt.Errorf("feature %d: %w", g.n, err)
	}
	f, err := geo.ParseFeature(raw)
	if err != nil {
		r.fault = problem("geometry", ReasonGeometryInvalid, "要素无效：%v", "invalid feature: %v", err)
		return r, nil
	}
	r.geom = f.Geometry
	if len(f.Properties) > 0 {
		props, err := f.PropertiesMap()
		if err != nil {
			r.fault = problem("", ReasonMalformedRow, "属性无效：%v", "invalid properties: %v", err)
			return r, nil
		}
		for k, v := range props {
			c, ok := lookupColumn(k)
			if !ok {
				continue // GIS exports carry extra attributes (OBJECTID, Shape_Length …)
			}
			g.names[c] = k
			switch v := v.(type) {
			case string:
				r.vals[c] = strings.TrimSpace(v)
			case json.Number:
				r.vals[c] = v.String()
			case bool:
				r.vals[c] = strconv.FormatBool(v)
			}
		}
	}
	if r.vals[colObjID] == "" {
		if s, ok := f.ID.(string); ok {
			r.vals[colObjID] = s
		} else if n, ok := f.ID.(json.Number); ok {
			r.vals[colObjID] = n.String()
		}
	}
	return r, nil
}

// CRS values an import settles on: CGCS2000 is taken as WGS84 (geo.ToWGS84
// explains why).
const (
	CRSWGS84 = geo.CRSWGS84
	CRSGCJ02 = geo.CRSGCJ02
)

// ParseCRS normalizes a coordinate system name: geo.NormalizeCRS's
// spellings, plus empty (WGS84) and the colloquial 火星坐标 for GCJ-02.
func ParseCRS(s string) (string, bool) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return CRSWGS84, true
	case "火星坐标", "火星坐标系":
		return CRSGCJ02, true
	}
	c, err := geo.NormalizeCRS(s)
	if err != nil {
		return "", false
	}
	if c != CRSGCJ02 {
		c = CRSWGS84
	}
	return c, true
}

// converter moves positions from crs (already normalized) to WGS84.
func converter(crs string) func(geo.Position) geo.Position {
	if crs != CRSGCJ02 {
		return func(p geo.Position) geo.Position { return p }
	}
	return func(p geo.Position) geo.Position {
		lon, lat, err := geo.ToWGS84(p[0], p[1], crs)
		if err != nil {
			return p // unreachable: crs is normalized and positions are finite
		}
		return geo.Position{lon, lat}
	}
}

// reproject converts every position of g in place.
func reproject(g *geo.Geometry, f func(geo.Position) geo.Position) {
	g.Point = f(g.Point)
	conv := func(ps []geo.Position) {
		for i := range ps {
			ps[i] = f(ps[i])
		}
	}
	conv(g.MultiPoint)
	conv(g.LineString)
	for _, l := range g.MultiLineString {
		conv(l)
	}
	for _, r := range g.Polygon {
		conv(r)
	}
	for _, p := range g.MultiPolygon {
		for _, r := range p {
			conv(r)
		}
	}
	for i := range g.Geometries {
		reproject(&g.Geometries[i], f)
	}
}

// representative is the point a line or polygon is indexed and listed at:
// a point's own position, a line's middle vertex, the vertex mean of a
// polygon's outer ring (inside for the convex shapes components have). The
// first part stands for a multi-geometry.
func representative(g *geo.Geometry) (geo.Position, bool) {
	mid := func(ps []geo.Position) (geo.Position, bool) {
		if len(ps) == 0 {
			return geo.Position{}, false
		}
		return ps[len(ps)/2], true
	}
	mean := func(ring geo.Ring) (geo.Position, bool) {
		n := len(ring)
		if n > 1 && ring[0] == ring[n-1] {
			n--
		}
		if n == 0 {
			return geo.Position{}, false
		}
		var lon, lat float64
		for _, p := range ring[:n] {
			lon += p[0]
			lat += p[1]
		}
		return geo.Position{lon / float64(n), lat / float64(n)}, true
	}
	switch g.Type {
	case geo.TypePoint:
		return g.Point, true
	case geo.TypeMultiPoint:
		return mid(g.MultiPoint)
	case geo.TypeLineString:
		return mid(g.LineString)
	case geo.TypeMultiLineString:
		if len(g.MultiLineString) > 0 {
			return mid(g.MultiLineString[0])
		}
	case geo.TypePolygon:
		if len(g.Polygon) > 0 {
			return mean(g.Polygon[0])
		}
	case geo.TypeMultiPolygon:
		if len(g.MultiPolygon) > 0 && len(g.MultiPolygon[0]) > 0 {
			return mean(g.MultiPolygon[0][0])
		}
	}
	return geo.Position{}, false
}

// allPositions reports whether every position of g satisfies ok.
func allPositions(g *geo.Geometry, ok func(geo.Position) bool) bool {
	all := func(ps []geo.Position) bool {
		return !slices.ContainsFunc(ps, func(p geo.Position) bool { return !ok(p) })
	}
	switch g.Type {
	case geo.TypePoint:
		return ok(g.Point)
	case geo.TypeMultiPoint:
		return all(g.MultiPoint)
	case geo.TypeLineString:
		return all(g.LineString)
	case geo.TypeMultiLineString:
		return !slices.ContainsFunc(g.MultiLineString, func(l []geo.Position) bool { return !all(l) })
	case geo.TypePolygon:
		return !slices.ContainsFunc(g.Polygon, func(r geo.Ring) bool { return !all(r) })
	case geo.TypeMultiPolygon:
		for _, p := range g.MultiPolygon {
			for _, r := range p {
				if !all(r) {
					return false
				}
			}
		}
		return true
	}
	return false
}

func parseFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}
