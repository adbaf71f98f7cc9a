package geo

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestOverlap(t *testing.T) {
	t.Parallel()
	sq := poly([]Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}})
	area := sq.AreaM2()
	tests := []struct {
		name string
		a, b Polygon
		want float64 // as a fraction of sq's area
	}{
		{"identical", sq, sq, 1},
		{"identical, other winding", sq, poly([]Position{{0, 0}, {0, 10}, {10, 10}, {10, 0}}), 1},
		{"shared edge", sq, poly([]Position{{10, 0}, {20, 0}, {20, 10}, {10, 10}}), 0},
		{"shared edge with a T-junction", sq, poly([]Position{{10, 0}, {20, 0}, {20, 10}, {10, 10}, {10, 5}}), 0},
		{"shared corner", sq, poly([]Position{{10, 10}, {20, 10}, {20, 20}, {10, 20}}), 0},
		{"disjoint", sq, poly([]Position{{30, 0}, {40, 0}, {40, 10}, {30, 10}}), 0},
		{"half", sq, poly([]Position{{5, 0}, {15, 0}, {15, 10}, {5, 10}}), 0.5},
		{"quarter", sq, poly([]Position{{5, 5}, {15, 5}, {15, 15}, {5, 15}}), 0.25},
		{"contained", sq, poly([]Position{{2, 2}, {7, 2}, {7, 7}, {2, 7}}), 0.25},
		{"containing", poly([]Position{{-5, -5}, {15, -5}, {15, 15}, {-5, 15}}), sq, 1},
		{"collinear overlapping edges", sq, poly([]Position{{0, 5}, {10, 5}, {10, 15}, {0, 15}}), 0.5},
		{"triangle", sq, poly([]Position{{0, 0}, {10, 0}, {0, 10}}), 0.5},
		// Concave: a U whose notch (x 3..6, y 3..9) holds a 3×6 block.
		{"U and block in its notch", poly([]Position{{0, 0}, {9, 0}, {9, 9}, {6, 9}, {6, 3}, {3, 3}, {3, 9}, {0, 9}}),
			poly([]Position{{3, 3}, {6, 3}, {6, 9}, {3, 9}}), 0},
		{"U and a bar across it", poly([]Position{{0, 0}, {9, 0}, {9, 9}, {6, 9}, {6, 3}, {3, 3}, {3, 9}, {0, 9}}),
			poly([]Position{{0, 5}, {9, 5}, {9, 7}, {0, 7}}), 0.12},
		{"two L shapes", poly([]Position{{0, 0}, {10, 0}, {10, 5}, {5, 5}, {5, 10}, {0, 10}}),
			poly([]Position{{2, 2}, {12, 2}, {12, 12}, {2, 12}, {2, 7}, {7, 7}, {7, 2}}), 0.09 + 0.09},
		{"hole in a", poly([]Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}}, []Position{{2, 2}, {2, 8}, {8, 8}, {8, 2}}),
			sq, 0.64},
		{"hole in both, overlapping holes", poly([]Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}}, []Position{{2, 2}, {2, 6}, {6, 6}, {6, 2}}),
			poly([]Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}}, []Position{{4, 4}, {4, 8}, {8, 8}, {8, 4}}), 1 - 0.16 - 0.16 + 0.04},
		{"block inside a hole", poly([]Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}}, []Position{{2, 2}, {2, 8}, {8, 8}, {8, 2}}),
			poly([]Position{{3, 3}, {7, 3}, {7, 7}, {3, 7}}), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := tc.want * area
			for _, got := range []float64{Overlap(tc.a, tc.b), Overlap(tc.b, tc.a)} {
				if !near(got, want, 1e-3+1e-6*area) {
					t.Errorf("Overlap = %.6f m², want %.6f", got, want)
				}
			}
		})
	}
}

// starPolygon is a random simple polygon, usually concave: vertices at
// increasing angles around a centre with random radii.
func starPolygon(rng *rand.Rand, cx, cy float64, n int) Polygon {
	r := make([]Position, n)
	for i := range r {
		a := 2 * math.Pi * (float64(i) + 0.8*rng.Float64()) / float64(n)
		rad := 2 + 8*rng.Float64()
		r[i] = Position{cx + rad*math.Cos(a), cy + rad*math.Sin(a)}
	}
	return poly(r)
}

// TestOverlapRandomConcave compares Overlap with a fine raster count on
// random concave polygons.
func TestOverlapRandomConcave(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	for k := range 40 {
		a := starPolygon(rng, 0, 0, 3+rng.IntN(12))
		b := starPolygon(rng, rng.Float64()*8-4, rng.Float64()*8-4, 3+rng.IntN(12))
		if _, ps := Validate("", PolygonGeometry(a)); len(ps) > 0 {
			continue
		}
		if _, ps := Validate("", PolygonGeometry(b)); len(ps) > 0 {
			continue
		}
		got := Overlap(a, b)
		bb := a.BBox().Union(b.BBox())
		const n = 600
		hits := 0
		for i := range n {
			for j := range n {
				lon := bb.MinLon + (float64(i)+0.5)/n*(bb.MaxLon-bb.MinLon)
				lat := bb.MinLat + (float64(j)+0.5)/n*(bb.MaxLat-bb.MinLat)
				if a.Contains(lon, lat) && b.Contains(lon, lat) {
					hits++
				}
			}
		}
		want := float64(hits) / (n * n) * rect(bb.MinLon, bb.MinLat, bb.MaxLon, bb.MaxLat).AreaM2()
		// Raster error ≈ perimeter × cell / 2; allow 2% of the smaller polygon.
		if tol := 0.02*min(a.AreaM2(), b.AreaM2()) + 1; !near(got, want, tol) {
			t.Errorf("case %d: Overlap = %.1f m², raster %.1f m² (tol %.1f)", k, got, want, tol)
		}
		if got > min(a.AreaM2(), b.AreaM2())+1e-6 {
			t.Errorf("case %d: overlap %.3f exceeds the smaller area", k, got)
		}
	}
}

func TestEarClipCoversRing(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range 200 {
		p := starPolygon(rng, 0, 0, 3+rng.IntN(30))
		if _, ps := Validate("", PolygonGeometry(p)); len(ps) > 0 {
			continue
		}
		f := newEAFrame(p[0][0][0], p[0][0][1])
		pr := projectRing(f, p[0])
		sum := 0.0
		for _, tri := range earClip(pr.pts) {
			sum += area2(tri[:]) / 2
		}
		if want := area2(pr.pts) / 2; !near(sum, want, 1e-6*want) {
			t.Errorf("case %d: triangles sum to %v, ring area %v", k, sum, want)
		}
	}
}
