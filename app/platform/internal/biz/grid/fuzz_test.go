package grid

import (
	"bytes"
	"testing"

	"github.com/cityops/cityops/app/pkg/region"
	"github.com/cityops/cityops/app/platform/internal/biz/grid/gridtest"
	"github.com/cityops/cityops/app/platform/internal/biz/tenant"
)

// FuzzReadFeatures feeds arbitrary bytes to the import's reader (the part
// that faces the outside: GeoJSON, properties, codes, geometry checks). It
// must never panic, and whatever it refuses it explains in both languages
// at a feature index.
func FuzzReadFeatures(f *testing.F) {
	f.Add(gridtest.Small("450126").GeoJSON())
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null,"properties":{"kind":"unit","code":450126001001001}}]}`))
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1e400,0]]]},"properties":{"kind":"street"}}]}`))
	f.Add([]byte(`{"features":[`))
	u := NewUsecase(nil, nil, nil, Config{})
	tn := &tenant.Tenant{ID: 1, Code: "450126", Level: region.County}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps := &problems{max: 50}
		p, err := u.read(ImportInput{Tenant: tn, Source: bytes.NewReader(data)}, ps)
		if err != nil {
			t.Fatal(err)
		}
		for _, pr := range ps.result() {
			if pr.ZH == "" || pr.EN == "" || pr.Rule == "" || pr.FeatureIndex < -1 || pr.FeatureIndex > p.features {
				t.Fatalf("problem %+v (of %d features)", pr, p.features)
			}
		}
	})
}
