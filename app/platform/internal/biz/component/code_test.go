package component

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

func TestCheckID(t *testing.T) {
	t.Parallel()
	county := RegionOf(&tenant.Tenant{Code: "450126", Level: region.County})
	city := RegionOf(&tenant.Tenant{Code: "450100", Level: region.City})
	area := RegionOf(&tenant.Tenant{Code: "NNGXQ1", Level: region.County, ManagementArea: true, ParentCode: "450100"})
	tests := []struct {
		name, id, class string
		r               Region
		scheme, reason  string
	}{
		{"legacy", "4501260101000001", "", county, SchemeLegacy, ""},
		{"legacy with class", "4501260101000001", "0101", county, SchemeLegacy, ""},
		{"2026", "45012601001000001", "01001", county, Scheme2026, ""},
		{"15 digits", "450126010100001", "", county, "", ReasonIDInvalid},
		{"18 digits", "450126010010000011", "", county, "", ReasonIDInvalid},
		{"letters", "45012601010000A1", "", county, "", ReasonIDInvalid},
		{"other county", "4501810101000001", "", county, "", ReasonRegionMismatch},
		{"city takes districts", "4501030101000001", "", city, SchemeLegacy, ""},
		{"city refuses other city", "4502030101000001", "", city, "", ReasonRegionMismatch},
		{"management area takes its city", "45010801001000001", "", area, Scheme2026, ""},
		{"class mismatch", "4501260101000001", "0118", county, "", ReasonClassMismatch},
		{"2026 class mismatch", "45012601001000001", "0100", county, "", ReasonClassMismatch},
	}
	for _, tt := range tests {
		id, p := CheckID(tt.id, tt.class, tt.r)
		got := ""
		if p != nil {
			got = p.Reason
			if p.ZH == "" || p.EN == "" {
				t.Errorf("%s: message missing: %+v", tt.name, p)
			}
		}
		if got != tt.reason || (p == nil && id.Scheme != tt.scheme) {
			t.Errorf("%s: CheckID(%s, %s) = %+v, %v; want scheme %q reason %q", tt.name, tt.id, tt.class, id, p, tt.scheme, tt.reason)
		}
	}
}

func TestAttributeRules(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want Status
		ok   bool
	}{{"完好", StatusGood, true}, {"破损", StatusDamaged, true}, {"丢失", StatusLost, true}, {"废弃", StatusAbandoned, true},
		{"移除", StatusRemoved, true}, {"Damaged", StatusDamaged, true}, {"", StatusGood, true}, {"坏", "", false}} {
		got, p := ParseStatus(tt.in)
		if got != tt.want || (p == nil) != tt.ok {
			t.Errorf("ParseStatus(%q) = %q, %v", tt.in, got, p)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"20230501", "20230501"}, {"2023-05-01", "20230501"}, {"2023/5/1", "20230501"}, {"", ""},
		{"20230230", "!"}, {"2023", "!"}, {"18000101", "!"}, {"20240229", "20240229"}, {"20230229", "!"},
		{"19000101", "19000101"}, {"18991231", "!"}, {"22001231", "22001231"}, {"22010101", "!"}, {"20231301", "!"},
		{"20230100", "!"}, {"2023050１", "!"}, {" 20230501 ", "20230501"}, {"2023.05.01", "20230501"},
	} {
		got, p := ParseDate("initial_date", tt.in)
		if (tt.want == "!") != (p != nil) || (p == nil && got != tt.want) {
			t.Errorf("ParseDate(%q) = %q, %v", tt.in, got, p)
		}
	}
	for _, tt := range []struct {
		in string
		ok bool
	}{{"", true}, {"91450100MA5KXXXX0X", true}, {"91450100MA5KXXXX0", false}, {"91450100MA5KXXXXOX", false}, {"9145010OMA5KXXXX0x", false}} {
		if p := CheckCreditCode("owner_code", tt.in); (p == nil) != tt.ok {
			t.Errorf("CheckCreditCode(%q) = %v", tt.in, p)
		}
	}
	for _, tt := range []struct {
		lon, lat float64
		reason   string
	}{{108.8, 23.2, ""}, {23.2, 108.8, ReasonCoordinatesSwapped}, {2.35, 48.85, ReasonOutsideChina}, {0, 0, ReasonOutsideChina}} {
		p := CheckPoint(tt.lon, tt.lat)
		if (p == nil && tt.reason != "") || (p != nil && p.Reason != tt.reason) {
			t.Errorf("CheckPoint(%v, %v) = %v, want %q", tt.lon, tt.lat, p, tt.reason)
		}
	}
}

// TestRowHashIsStable pins RowHash: stored hashes must keep matching what
// a new version computes, or every re-import rewrites every row.
func TestRowHashIsStable(t *testing.T) {
	t.Parallel()
	c := &Component{
		ObjID: "45012601001000003", Scheme: Scheme2026, ClassCode: "01001", Name: "供水井盖",
		MainDeptCode: "11450126MB1234567X", MainDeptName: "宾阳县水务局", GridCode: "450126001001002",
		Status: StatusGood, InitialDate: "20230503", DataSource: "地形图", Lon: 108.811, Lat: 23.221,
		Geometry: `{"type":"LineString","coordinates":[[108.811,23.221],[108.812,23.222]]}`,
	}
	const want = "2a99c1acc5ca6b701e12f5aae9dc310f42fbff5904121694532b9c50514811e2"
	if got := RowHash(c); got != want {
		t.Errorf("RowHash = %s, want %s", got, want)
	}
	var n normalizer
	for range 2 { // the reused buffer of the import
		n.hashBuf = appendHashInput(n.hashBuf[:0], c)
		if got := hashHex(n.hashBuf); got != want {
			t.Errorf("import hash = %s, want %s", got, want)
		}
	}
}

func TestSnifferDecidesOnTheWholeFile(t *testing.T) {
	t.Parallel()
	ascii := bytes.Repeat([]byte("a,b\n"), 100_000)
	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"ascii", ascii, EncodingUTF8},
		{"bom", append([]byte("\xEF\xBB\xBF"), "标识码"...), EncodingUTF8BOM},
		{"gbk after a long ascii prefix", append(bytes.Clone(ascii), 0xC9, 0xCF, 0xCB, 0xAE), EncodingGBK},
		{"utf8 split across writes", []byte("上水井盖完好"), EncodingUTF8},
		{"truncated rune at the end", []byte("上水\xE4"), EncodingGBK},
	} {
		s := newSniffer()
		// Tiny chunks split runes across writes.
		for chunk := range slicesChunk(tt.data, 7) {
			_, _ = s.Write(chunk)
		}
		if got := s.encoding(); got != tt.want {
			t.Errorf("%s: encoding %s, want %s", tt.name, got, tt.want)
		}
	}
}

func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for i := 0; i < len(b); i += n {
			if !yield(b[i:min(i+n, len(b))]) {
				return
			}
		}
	}
}

// FuzzParseComponentCSV feeds arbitrary bytes through the whole CSV path
// (encoding detection, header, rows, normalization): it must never panic.
func FuzzParseComponentCSV(f *testing.F) {
	f.Add([]byte("标识码,名称,经度,纬度\n4501260101000001,井盖,108.81,23.22\n"))
	f.Add([]byte("\xEF\xBB\xBFobj_id,lon,lat,crs,status,initial_date\n45012601001000001,108.8,23.2,GCJ02,破损,2023/5/1\n"))
	f.Add([]byte("obj_id,lon,lat\n\"4501260101000001,1,2\n,,\n"))
	f.Add([]byte("\xB1\xEA\xCA\xB6\xC2\xEB,lon,lat\n1,2,3\n"))
	r := RegionOf(&tenant.Tenant{Code: "450126", Level: region.County})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newSniffer()
		_, _ = s.Write(data)
		rd, err := decode(bytes.NewReader(data), s.encoding())
		if err != nil {
			return
		}
		rows, err := newCSVRows(rd)
		if err != nil {
			return
		}
		n := normalizer{region: r, defaultCRS: CRSWGS84}
		for range 10_000 {
			row, err := rows.next()
			if errors.Is(err, io.EOF) || err != nil {
				return
			}
			if c, p := n.normalize(&row); p == nil && (c == nil || len(c.RowHash) != 64) {
				t.Fatalf("accepted row without a hash: %+v", c)
			}
		}
	})
}
