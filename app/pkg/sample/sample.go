// Package sample generates a realistic, deterministic territory for a
// sample tenant: unit grids of about 10,000 m² (万米单元网格) grouped into
// communities and streets with GB/T 2260-prefixed 15-digit codes, patrol and
// responsibility grids, and a component census with the real class mix —
// written in the formats `cityctl grid import` and `cityctl component
// import` read, so the sample data goes through the same validation as a
// city's own files.
package sample

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/cityops/cityops/app/pkg/geo"
)

// Options shape a territory. Nanning's built-up area at full size is
// ~325 km²: 32,000 cells, ~100 patrol grids, ~1.25 million components.
type Options struct {
	Seed int64
	// Cells is the number of unit grids.
	Cells int
	// Districts are the GB/T 2260 codes the territory is split among: the
	// county's own code for a county tenant, the districts for a city.
	Districts []string
	// PatrolGrids is the number of supervisor patrol grids (监督网格).
	PatrolGrids int
	// Departments are department codes responsibility grids are given to,
	// in turn (a responsibility grid per street).
	Departments []string
}

// Grid is one generated unit grid.
type Grid struct {
	Code, Community, Street, District string
	AreaClass, LandUse                string
	Polygon                           geo.Polygon
	row, col                          int
}

// Territory is a generated territory.
type Territory struct {
	Grids       []Grid
	Streets     map[string]string // code → name
	Communities map[string]string // code → name
	Patrol      map[string][]string
	Resp        map[string]respGrid
	order       struct{ streets, communities, patrol, resp []string }
}

type respGrid struct {
	dept  string
	units []string
}

// Block sizes in cells: a community is 7×7 cells (~0.5 km²), a street
// 3×3 communities (~4.4 km²), the sizes Chinese cities typically have.
const (
	communityCells = 7
	streetCommun   = 3
)

var landUses = []string{"R", "A", "B", "M", "S", "G", "U"}

// Generate builds the territory for o, deterministically from o.Seed.
func Generate(o Options) (*Territory, error) {
	if len(o.Districts) == 0 {
		return nil, fmt.Errorf("sample: no district codes")
	}
	for _, d := range o.Districts {
		if len(d) != 6 {
			return nil, fmt.Errorf("sample: district code %q is not 6 digits", d)
		}
	}
	s := geo.SampleTerritory(o.Seed, o.Cells)
	minCol, maxCol := math.MaxInt, math.MinInt
	var cr, cc float64
	for _, c := range s.Cells {
		minCol, maxCol = min(minCol, c.Col), max(maxCol, c.Col)
		cr += float64(c.Row)
		cc += float64(c.Col)
	}
	cr /= float64(len(s.Cells))
	cc /= float64(len(s.Cells))
	maxR := 0.0
	for _, c := range s.Cells {
		maxR = max(maxR, math.Hypot(float64(c.Row)-cr, float64(c.Col)-cc))
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 0x51ced))
	t := &Territory{Streets: map[string]string{}, Communities: map[string]string{}, Patrol: map[string][]string{}, Resp: map[string]respGrid{}}
	width := maxCol - minCol + 1
	streetSeq := map[string]map[[2]int]int{} // district → street block → seq
	commSeq := map[string]map[[2]int]int{}   // street code → community block → seq
	gridSeq := map[string]int{}              // community code → last seq
	for _, c := range s.Cells {
		// Districts take vertical bands of the territory, west to east.
		d := o.Districts[min(len(o.Districts)-1, (c.Col-minCol)*len(o.Districts)/width)]
		sb := [2]int{c.Row / (communityCells * streetCommun), c.Col / (communityCells * streetCommun)}
		if streetSeq[d] == nil {
			streetSeq[d] = map[[2]int]int{}
		}
		sn, ok := streetSeq[d][sb]
		if !ok {
			sn = len(streetSeq[d]) + 1
			streetSeq[d][sb] = sn
		}
		street := fmt.Sprintf("%s%03d", d, sn)
		if _, ok := t.Streets[street]; !ok {
			t.Streets[street] = fmt.Sprintf("样本街道%s-%03d", d[4:], sn)
			t.order.streets = append(t.order.streets, street)
		}
		cb := [2]int{c.Row / communityCells, c.Col / communityCells}
		if commSeq[street] == nil {
			commSeq[street] = map[[2]int]int{}
		}
		cn, ok := commSeq[street][cb]
		if !ok {
			cn = len(commSeq[street]) + 1
			commSeq[street][cb] = cn
		}
		community := fmt.Sprintf("%s%03d", street, cn)
		if _, ok := t.Communities[community]; !ok {
			t.Communities[community] = fmt.Sprintf("样本社区%s-%03d-%03d", d[4:], sn, cn)
			t.order.communities = append(t.order.communities, community)
		}
		gridSeq[community]++
		r := math.Hypot(float64(c.Row)-cr, float64(c.Col)-cc) / maxR
		class := "C"
		switch {
		case r < 0.35:
			class = "A"
		case r < 0.75:
			class = "B"
		}
		t.Grids = append(t.Grids, Grid{
			Code: fmt.Sprintf("%s%03d", community, gridSeq[community]), Community: community, Street: street, District: d,
			AreaClass: class, LandUse: landUses[rng.IntN(len(landUses))], Polygon: c.Polygon, row: c.Row, col: c.Col,
		})
	}
	// Patrol grids: square blocks of cells sized so that about
	// o.PatrolGrids of them cover the territory.
	if o.PatrolGrids > 0 {
		side := max(1, int(math.Round(math.Sqrt(float64(len(t.Grids))/float64(o.PatrolGrids)))))
		seq := map[[2]int]string{}
		for _, g := range t.Grids {
			b := [2]int{g.row / side, g.col / side}
			code, ok := seq[b]
			if !ok {
				code = fmt.Sprintf("JD-%03d", len(seq)+1)
				seq[b] = code
				t.order.patrol = append(t.order.patrol, code)
			}
			t.Patrol[code] = append(t.Patrol[code], g.Code)
		}
	}
	if len(o.Departments) > 0 {
		for i, st := range t.order.streets {
			code := "ZR-" + st
			t.Resp[code] = respGrid{dept: o.Departments[i%len(o.Departments)]}
			t.order.resp = append(t.order.resp, code)
		}
		for _, g := range t.Grids {
			code := "ZR-" + g.Street
			rg := t.Resp[code]
			rg.units = append(rg.units, g.Code)
			t.Resp[code] = rg
		}
	}
	return t, nil
}

type feature struct {
	Type       string         `json:"type"`
	Geometry   *geo.Geometry  `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

// WriteGrids writes the territory as one GeoJSON FeatureCollection in the
// import format: streets, communities, unit grids, patrol grids,
// responsibility grids — parents before children, written as a stream.
func (t *Territory) WriteGrids(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.WriteString(`{"type":"FeatureCollection","features":[` + "\n"); err != nil {
		return err
	}
	first := true
	emit := func(f feature) error {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if !first {
			if err := bw.WriteByte(','); err != nil {
				return err
			}
		}
		first = false
		_, err = bw.Write(append(b, '\n'))
		return err
	}
	for _, code := range t.order.streets {
		if err := emit(feature{Type: "Feature", Properties: map[string]any{"kind": "street", "code": code, "name": t.Streets[code]}}); err != nil {
			return err
		}
	}
	for _, code := range t.order.communities {
		if err := emit(feature{Type: "Feature", Properties: map[string]any{"kind": "community", "code": code, "name": t.Communities[code]}}); err != nil {
			return err
		}
	}
	for _, g := range t.Grids {
		geom := geo.PolygonGeometry(g.Polygon)
		if err := emit(feature{Type: "Feature", Geometry: &geom, Properties: map[string]any{
			"kind": "unit", "code": g.Code, "community_code": g.Community, "street_code": g.Street,
			"area_class": g.AreaClass, "land_use": g.LandUse,
		}}); err != nil {
			return err
		}
	}
	for _, code := range t.order.patrol {
		if err := emit(feature{Type: "Feature", Properties: map[string]any{
			"kind": "patrol", "code": code, "name": "监督网格 " + code, "unit_grids": t.Patrol[code],
			"assignees": []string{"supervisor"},
		}}); err != nil {
			return err
		}
	}
	for _, code := range t.order.resp {
		rg := t.Resp[code]
		if err := emit(feature{Type: "Feature", Properties: map[string]any{
			"kind": "responsibility", "code": code, "name": "责任网格 " + code, "unit_grids": rg.units,
			"department_code": rg.dept,
		}}); err != nil {
			return err
		}
	}
	if _, err := bw.WriteString("]}\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// classMix is the share of each GB/T 47678.5-2026 component class in a
// city's census: manhole covers dominate, then lamps, trees and bins.
var classMix = []struct {
	code, name string
	weight     int
}{
	{"01001", "供水井盖", 9}, {"01002", "污水井盖", 10}, {"01003", "雨水井盖", 12}, {"01004", "雨水箅子", 9},
	{"01005", "电力井盖", 4}, {"01007", "通信井盖", 6}, {"01011", "燃气井盖", 2}, {"01013", "消防设施", 3},
	{"01028", "电力设施", 2}, {"02010", "交通标志牌及标线", 4}, {"02012", "路名牌", 2}, {"02014", "交通信号灯", 1},
	{"02017", "交通护栏", 3}, {"02004", "公交站设施", 1}, {"03005", "垃圾箱", 8}, {"03001", "公共厕所", 1},
	{"03006", "户外广告", 2}, {"04002", "行道树", 14}, {"04011", "树池树穴", 4}, {"04007", "街头座椅", 1},
	{"01023", "不明井盖", 1}, {"01030", "路灯", 1},
}

var statuses = []struct {
	name   string
	weight int
}{{"完好", 90}, {"破损", 6}, {"丢失", 1}, {"废弃", 2}, {"移除", 1}}

var componentHeader = []string{"标识码", "名称", "小类代码", "主管部门代码", "主管部门名称", "权属单位代码", "权属单位名称",
	"养护单位代码", "养护单位名称", "所在单元网格", "部件状态", "初始日期", "变更日期", "数据来源", "备注", "经度", "纬度", "坐标系"}

// WriteComponents writes n components spread over the grids as CSV in the
// import format (UTF-8, Chinese headers, 17-digit 2026 ids), streamed.
func (t *Territory) WriteComponents(w io.Writer, seed int64, n int) error {
	if len(t.Grids) == 0 {
		return fmt.Errorf("sample: no grids")
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc0ffee))
	total := 0
	for _, c := range classMix {
		total += c.weight
	}
	pick := func() (string, string) {
		x := rng.IntN(total)
		for _, c := range classMix {
			if x < c.weight {
				return c.code, c.name
			}
			x -= c.weight
		}
		return classMix[0].code, classMix[0].name
	}
	status := func() string {
		x := rng.IntN(100)
		for _, s := range statuses {
			if x < s.weight {
				return s.name
			}
			x -= s.weight
		}
		return statuses[0].name
	}
	serial := map[string]int{} // district+class → last serial
	bw := bufio.NewWriterSize(w, 1<<20)
	cw := csv.NewWriter(bw)
	if err := cw.Write(componentHeader); err != nil {
		return err
	}
	row := make([]string, len(componentHeader))
	for i := 0; i < n; i++ {
		g := &t.Grids[rng.IntN(len(t.Grids))]
		code, name := pick()
		key := g.District + code
		serial[key]++
		if serial[key] > 999999 {
			return fmt.Errorf("sample: more than 999,999 components of class %s in %s", code, g.District)
		}
		lon, lat := pointIn(rng, g.Polygon)
		year := 2008 + rng.IntN(18)
		row[0] = fmt.Sprintf("%s%s%06d", g.District, code, serial[key])
		row[1] = name
		row[2] = code
		row[3], row[4] = "11450100MB1234567X", "南宁市市政和园林管理局"
		row[5], row[6] = "", ""
		row[7], row[8] = "", "样本养护公司"
		row[9] = g.Code
		row[10] = status()
		row[11] = fmt.Sprintf("%04d%02d%02d", year, 1+rng.IntN(12), 1+rng.IntN(28))
		row[12] = ""
		row[13] = "实测"
		row[14] = ""
		row[15] = strconv.FormatFloat(lon, 'f', 7, 64)
		row[16] = strconv.FormatFloat(lat, 'f', 7, 64)
		row[17] = "WGS84"
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// pointIn picks a point inside a convex cell by bilinear interpolation of
// its four corners, kept off the edges so it has one owner.
func pointIn(rng *rand.Rand, p geo.Polygon) (float64, float64) {
	r := p[0]
	u := 0.05 + 0.9*rng.Float64()
	v := 0.05 + 0.9*rng.Float64()
	if len(r) < 4 {
		return r[0][0], r[0][1]
	}
	a, b, c, d := r[0], r[1], r[2], r[3]
	lon := (1-u)*(1-v)*a[0] + u*(1-v)*b[0] + u*v*c[0] + (1-u)*v*d[0]
	lat := (1-u)*(1-v)*a[1] + u*(1-v)*b[1] + u*v*c[1] + (1-u)*v*d[1]
	return lon, lat
}

// DefaultDistricts are the district codes a tenant's sample territory is
// spread over: 南宁市's urban districts (GB/T 2260) for 450100, the tenant's
// own code otherwise.
func DefaultDistricts(code string) []string {
	if code == "450100" {
		return []string{"450102", "450103", "450105", "450107", "450108", "450109", "450110"}
	}
	return []string{code}
}

// DefaultDepartments are the departments of the shipped sample tenants
// (tenants/*/departments.yaml) that responsibility grids are given to.
func DefaultDepartments(code string) []string {
	switch code {
	case "450100":
		return []string{"NN-XNQ", "NN-QXQ", "NN-JNQ"}
	case "450126":
		return []string{"BY-CGJ"}
	case "450181":
		return []string{"HZ-CGJ"}
	}
	return nil
}
