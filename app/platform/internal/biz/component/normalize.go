package component

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/cityops/cityops/app/pkg/geo"
)

// normalizer turns a file row into a stored component, checking every rule
// that needs no database: id shape, region and class part, status, dates,
// credit codes, grid code shape, lengths and coordinates (converted from
// GCJ-02 here, once, when the row or the import says so).
type normalizer struct {
	region     Region
	defaultCRS string
	hashBuf    []byte      // RowHash's input, reused
	slab       []Component // components are allocated a slab at a time
}

// newComponent returns a zero component from the slab.
func (n *normalizer) newComponent() *Component {
	if len(n.slab) == 0 {
		n.slab = make([]Component, 256)
	}
	c := &n.slab[0]
	n.slab = n.slab[1:]
	return c
}

func (n *normalizer) normalize(r *row) (*Component, *Problem) {
	if r.fault != nil {
		return nil, r.fault
	}
	v := &r.vals
	if v[colObjID] == "" {
		return nil, problem("obj_id", ReasonIDInvalid, "标识码为空", "the id is empty")
	}
	id, p := CheckID(v[colObjID], v[colClassCode], n.region)
	if p != nil {
		return nil, p
	}
	c := n.newComponent()
	*c = Component{
		ObjID: v[colObjID], Scheme: id.Scheme, ClassCode: id.ClassCode, Name: v[colName],
		MainDeptCode: v[colMainDeptCode], MainDeptName: v[colMainDeptName],
		OwnerCode: v[colOwnerCode], OwnerName: v[colOwnerName],
		MaintainerCode: v[colMaintainerCode], MaintainerName: v[colMaintainerName],
		GridCode: v[colGridCode], StreetCode: v[colStreetCode], CommunityCode: v[colCommunityCode],
		DataSource: v[colDataSource], Note: v[colNote],
	}
	if c.Status, p = ParseStatus(v[colStatus]); p != nil {
		return nil, p
	}
	if c.InitialDate, p = ParseDate("initial_date", v[colInitialDate]); p != nil {
		return nil, p
	}
	if c.ChangeDate, p = ParseDate("change_date", v[colChangeDate]); p != nil {
		return nil, p
	}
	// The 2026 standard makes the unit codes 统一社会信用代码 (C18); legacy
	// census files carry local department codes, which are kept as given.
	if id.Scheme == Scheme2026 {
		for _, f := range []struct {
			key string
			col int
		}{{"main_dept_code", colMainDeptCode}, {"owner_code", colOwnerCode}, {"maintainer_code", colMaintainerCode}} {
			if p := CheckCreditCode(f.key, v[f.col]); p != nil {
				return nil, p
			}
		}
	}
	if p := CheckGridCode(c.GridCode); p != nil {
		return nil, p
	}
	for _, f := range []struct{ key, val string }{
		{"name", c.Name}, {"main_dept_code", c.MainDeptCode}, {"main_dept_name", c.MainDeptName},
		{"owner_code", c.OwnerCode}, {"owner_name", c.OwnerName}, {"maintainer_code", c.MaintainerCode},
		{"maintainer_name", c.MaintainerName}, {"street_code", c.StreetCode}, {"community_code", c.CommunityCode},
		{"data_source", c.DataSource}, {"note", c.Note},
	} {
		if p := checkLen(f.key, f.val); p != nil {
			return nil, p
		}
	}
	if p := n.locate(r, c); p != nil {
		return nil, p
	}
	n.hashBuf = appendHashInput(n.hashBuf[:0], c)
	c.RowHash = hashHex(n.hashBuf)
	return c, nil
}

// locate sets the WGS84 position (and the geometry of a line or polygon).
func (n *normalizer) locate(r *row, c *Component) *Problem {
	crs := n.defaultCRS
	if s := r.vals[colCRS]; s != "" {
		var ok bool
		if crs, ok = ParseCRS(s); !ok {
			return problem("crs", ReasonCRSInvalid, "不支持的坐标系 %q（支持 WGS84、CGCS2000、GCJ02）",
				"unsupported coordinate system %q (WGS84, CGCS2000 or GCJ02)", s)
		}
	}
	conv := converter(crs)
	if g := r.geom; g != nil {
		if !allPositions(g, func(p geo.Position) bool { return InChina(p[0], p[1]) }) {
			pt, _ := representative(g)
			if p := CheckPoint(pt[0], pt[1]); p != nil {
				return p
			}
			return problem("geometry", ReasonOutsideChina, "几何图形有顶点不在中国境内", "a vertex of the geometry lies outside China")
		}
		reproject(g, conv)
		pt, ok := representative(g)
		if !ok {
			return problem("geometry", ReasonGeometryInvalid, "几何图形没有坐标", "the geometry has no coordinates")
		}
		c.Lon, c.Lat = round7(pt[0]), round7(pt[1])
		if g.Type != geo.TypePoint {
			b, err := json.Marshal(g)
			if err != nil {
				return problem("geometry", ReasonGeometryInvalid, "几何图形无效：%v", "invalid geometry: %v", err)
			}
			c.Geometry = string(b)
		}
		return nil
	}
	if r.vals[colLon] == "" || r.vals[colLat] == "" {
		return problem("lon", ReasonCoordinatesMissing, "缺少经纬度", "the longitude or latitude is missing")
	}
	lon, ok1 := parseFloat(r.vals[colLon])
	lat, ok2 := parseFloat(r.vals[colLat])
	if !ok1 || !ok2 {
		return problem("lon", ReasonCoordinatesInvalid, "经纬度 (%s, %s) 不是数字", "the coordinates (%s, %s) are not numbers", r.vals[colLon], r.vals[colLat])
	}
	if p := CheckPoint(lon, lat); p != nil {
		return p
	}
	pt := conv(geo.Position{lon, lat})
	c.Lon, c.Lat = round7(pt[0]), round7(pt[1])
	return nil
}

// round7 keeps 7 decimals (about 1 cm), so that a value read back from an
// export hashes the same as the one imported.
func round7(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 7, 64), 64)
	return v
}

// RowHash identifies the normalized attributes of a component: a re-import
// of an unchanged row finds the same hash and writes nothing.
func RowHash(c *Component) string { return hashHex(appendHashInput(nil, c)) }

// appendHashInput appends what RowHash hashes: each attribute followed by
// the unit separator 0x1f, coordinates with 7 decimals.
func appendHashInput(b []byte, c *Component) []byte {
	for _, s := range [...]string{
		c.ObjID, c.Scheme, c.ClassCode, c.Name, c.MainDeptCode, c.MainDeptName, c.OwnerCode, c.OwnerName,
		c.MaintainerCode, c.MaintainerName, c.GridCode, c.StreetCode, c.CommunityCode, string(c.Status),
		c.InitialDate, c.ChangeDate, c.DataSource, c.Note,
	} {
		b = append(b, s...)
		b = append(b, 0x1f)
	}
	b = strconv.AppendFloat(b, c.Lon, 'f', 7, 64)
	b = append(b, 0x1f)
	b = strconv.AppendFloat(b, c.Lat, 'f', 7, 64)
	b = append(b, 0x1f)
	b = append(b, c.Geometry...)
	return append(b, 0x1f)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
