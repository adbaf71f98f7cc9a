package region_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cityops/cityops/app/pkg/region"
)

func TestParseLevel(t *testing.T) {
	t.Parallel()
	for _, l := range region.Levels {
		got, err := region.ParseLevel(string(l))
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %q, %v", l, got, err)
		}
	}
	for _, bad := range []string{"", "County", "district", "县", " city"} {
		if _, err := region.ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q) succeeded, want error", bad)
		}
	}
}

func TestLevelOfCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		want region.Level
		ok   bool
	}{
		{"000000", region.National, true},
		{"450000", region.Province, true},   // 广西壮族自治区
		{"110000", region.Province, true},   // 北京市 (a province-level municipality)
		{"450100", region.City, true},       // 南宁市
		{"450102", region.County, true},     // 兴宁区
		{"450110", region.County, true},     // 武鸣区
		{"450126", region.County, true},     // 宾阳县
		{"450181", region.County, true},     // 横州市 (county-level city)
		{"450127", region.County, true},     // 横县, retired in 2021 but still well-formed
		{"429004", region.County, true},     // 仙桃市, 省直辖县级行政单位
		{"450001", "", false},               // county digits without a prefecture group
		{"000100", "", false},               // only 000000 may start with 0
		{"900000", "", false},               // no large region 9
		{"45010", "", false},                // too short
		{"4501260", "", false},              // too long
		{"45O100", "", false},               // letter O, not zero
		{"４５０１００", "", false},               // full-width digits
		{"", "", false},                     // empty
		{"-45010", "", false},               // sign
		{"450100 ", "", false},              // trailing space
		{"4501\x0026", "", false},           // NUL byte
		{"NNGXQ001", "", false},             // management-area shape is not GB
		{"12345678901234567890", "", false}, // far too long
	}
	for _, tt := range tests {
		got, ok := region.LevelOfCode(tt.code)
		if got != tt.want || ok != tt.ok {
			t.Errorf("LevelOfCode(%q) = %q, %v; want %q, %v", tt.code, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidateCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code  string
		ma    bool
		valid bool
	}{
		{"000000", false, true},
		{"450000", false, true},
		{"450100", false, true},
		{"450126", false, true},
		{"450181", false, true},
		{"450127", false, true},
		{"450001", false, false},
		{"45012", false, false},
		{"NNGX01", false, false},
		// Management areas: 6–12 of [0-9A-Z].
		{"NNGX01", true, true},
		{"450100GXQ", true, true},
		{"450100GXQ001", true, true},
		{"450100", true, true}, // shape only; see ValidateCode
		{"NNGX1", true, false},
		{"450100GXQ0012", true, false},
		{"nngx01", true, false},
		{"NN-GX01", true, false},
		{"NNGX01 ", true, false},
		{"", true, false},
	}
	for _, tt := range tests {
		err := region.ValidateCode(tt.code, tt.ma)
		if (err == nil) != tt.valid {
			t.Errorf("ValidateCode(%q, %v) = %v; want valid=%v", tt.code, tt.ma, err, tt.valid)
			continue
		}
		if err == nil {
			continue
		}
		var v *region.Violation
		if !errors.As(err, &v) {
			t.Errorf("ValidateCode(%q, %v) error %T is not a *Violation", tt.code, tt.ma, err)
			continue
		}
		if v.Field != "code" || v.ZH == "" || v.EN == "" {
			t.Errorf("ValidateCode(%q, %v) = %+v; want field code with zh and en messages", tt.code, tt.ma, v)
		}
	}
}

func node(code string, l region.Level) *region.Node {
	return &region.Node{Code: code, Level: l}
}

func mgmt(code string) region.Node {
	return region.Node{Code: code, Level: region.County, ManagementArea: true}
}

func TestCheckPlacement(t *testing.T) {
	t.Parallel()
	national := node("000000", region.National)
	guangxi := node("450000", region.Province)
	guangdong := node("440000", region.Province)
	nanning := node("450100", region.City)
	liuzhou := node("450200", region.City)
	binyang := node("450126", region.County)
	gaoxin := mgmt("450100GXQ")

	tests := []struct {
		name   string
		child  region.Node
		parent *region.Node
		want   []string // fields of the expected violations, in order
	}{
		// Valid placements.
		{"national has no parent", *national, nil, nil},
		{"province under national", *guangxi, national, nil},
		{"city under province", *nanning, guangxi, nil},
		{"district under city", *node("450102", region.County), nanning, nil},
		{"宾阳县 under 南宁市", *binyang, nanning, nil},
		{"横州市 450181 under 南宁市", *node("450181", region.County), nanning, nil},
		{"old 横县 450127 under 南宁市", *node("450127", region.County), nanning, nil},
		{"county directly under province (省直辖县)", *node("429004", region.County), node("420000", region.Province), nil},
		{"management area under city", gaoxin, nanning, nil},
		{"management area with GB-looking code", mgmt("450199"), nanning, nil},
		{"management area code outside the city range is exempt", mgmt("440100ZZ"), nanning, nil},

		// Level rules.
		{"national with parent", *national, guangxi, []string{"parent"}},
		{"national with wrong code", *node("450000", region.National), nil, []string{"level"}},
		{"province without parent", *guangxi, nil, []string{"parent"}},
		{"province under province", *guangdong, guangxi, []string{"parent"}},
		{"city under national", *nanning, national, []string{"parent"}},
		{"city under city", *liuzhou, nanning, []string{"parent"}},
		{"county under county", *node("450127", region.County), binyang, []string{"parent"}},
		{"county under national", *binyang, national, []string{"parent"}},
		{"county without parent", *binyang, nil, []string{"parent"}},
		{"county under management area", *binyang, &gaoxin, []string{"parent"}},
		{"management area under province", gaoxin, guangxi, []string{"parent"}},
		{"management area under management area", mgmt("450100WXXQ"), &gaoxin, []string{"parent"}},
		{"management area declared as city", region.Node{Code: "450100GXQ", Level: region.City, ManagementArea: true}, guangxi, []string{"level"}},
		{"own parent", *nanning, nanning, []string{"parent"}},
		{"bad level", region.Node{Code: "450126", Level: "district"}, nanning, []string{"level"}},
		{"empty level", region.Node{Code: "450126"}, nanning, []string{"level"}},

		// Code structure and consistency.
		{"city code declared as county", *node("450100", region.County), guangxi, []string{"level"}},
		{"county code declared as city", *node("450126", region.City), guangxi, []string{"level"}},
		{"other province's code declared as city", *node("440000", region.City), guangxi, []string{"level", "code"}},
		{"parent's code declared as city", *node("450000", region.City), guangxi, []string{"level", "parent"}},
		{"city of another province", *node("440100", region.City), guangxi, []string{"code"}},
		{"province-direct county of another province", *node("429004", region.County), guangxi, []string{"code"}},
		{"county of another city", *node("450203", region.County), nanning, []string{"code"}},
		{"malformed code", *node("45012", region.County), nanning, []string{"code"}},
		{"malformed code and bad level", region.Node{Code: "x", Level: "x"}, nanning, []string{"level", "code"}},
		{"management-area code under GB rules", *node("450100GXQ", region.County), nanning, []string{"code"}},
		{"bad management-area code", mgmt("gxq"), nanning, []string{"code"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vs := region.CheckPlacement(tt.child, tt.parent)
			var got []string
			for _, v := range vs {
				got = append(got, v.Field)
				if v.ZH == "" || v.EN == "" {
					t.Errorf("violation %+v lacks a zh or en message", v)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckPlacement(%+v, %+v) fields (-want +got):\n%s\nviolations: %+v", tt.child, tt.parent, diff, vs)
			}
		})
	}
}

func TestCheckPlacementMessages(t *testing.T) {
	t.Parallel()
	vs := region.CheckPlacement(region.Node{Code: "450203", Level: region.County}, &region.Node{Code: "450100", Level: region.City})
	want := []region.Violation{{
		Field: "code",
		ZH:    "代码 450203 不属于上级市 450100：前 4 位应为 4501",
		EN:    "code 450203 is not inside city 450100: the first 4 digits must be 4501",
	}}
	if diff := cmp.Diff(want, vs); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func ExampleCheckPlacement() {
	nanning := region.Node{Code: "450100", Level: region.City}
	for _, v := range region.CheckPlacement(region.Node{Code: "450126", Level: region.County}, &region.Node{Code: "450181", Level: region.County}) {
		fmt.Println(v.Field+":", v.EN)
	}
	fmt.Println(len(region.CheckPlacement(region.Node{Code: "450126", Level: region.County}, &nanning)))
	// Output:
	// parent: a county tenant cannot be placed under county 450181 (a county's parent must be a city or a province)
	// 0
}

func FuzzValidateCode(f *testing.F) {
	for _, seed := range []string{
		"000000", "450000", "450100", "450102", "450126", "450127", "450181",
		"429004", "450001", "45012", "4501260", "NNGX01", "450100GXQ001", "", "４５０１００",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, code string, managementArea bool) {
		err := region.ValidateCode(code, managementArea)
		level, ok := region.LevelOfCode(code)
		if !managementArea && (err == nil) != ok {
			t.Fatalf("ValidateCode(%q) = %v but LevelOfCode ok = %v", code, err, ok)
		}
		if ok {
			if len(code) != 6 || !level.Valid() {
				t.Fatalf("LevelOfCode(%q) = %q, true for a malformed code", code, level)
			}
			// A well-formed code always passes the structure check for its own level.
			for _, v := range region.CheckNode(region.Node{Code: code, Level: level}) {
				t.Fatalf("CheckNode(%q, %q) = %+v", code, level, v)
			}
		}
		if err != nil {
			var v *region.Violation
			if !errors.As(err, &v) || v.ZH == "" || v.EN == "" {
				t.Fatalf("ValidateCode(%q) error %#v lacks bilingual messages", code, err)
			}
		}
		// Never panics, whatever the parent.
		region.CheckPlacement(region.Node{Code: code, Level: level, ManagementArea: managementArea}, &region.Node{Code: code, Level: region.City})
	})
}
