// Package geo holds the geometry that the city registry needs: GeoJSON
// (RFC 7946) types and a streaming codec, validation with bilingual problems,
// ellipsoidal area and local distances, polygon overlap and territory
// coverage, the GCJ-02 ("Mars coordinates") ↔ WGS84 transform, and in-memory
// spatial indexes for unit grids (单元网格) and city components (部件).
//
// Everything stored is WGS84/CGCS2000 longitude/latitude in degrees, in
// GeoJSON order [lon, lat]. Coordinates that come from Chinese web maps
// (WeChat, Amap, Tencent) are GCJ-02 and must go through ToWGS84 before they
// are stored or looked up.
//
// # Planar conventions
//
// Following RFC 7946 §3.1.1, an edge between two positions is the straight
// line in the lon/lat plane. Point-in-polygon tests, self-intersection checks
// and clipping work in that plane (clipping in a locally scaled copy of it).
// Areas are ellipsoidal (see Area); distances are spherical (Haversine) or
// use the ellipsoid's local radii of curvature (see the index types), which is
// more accurate than a sphere at city scale.
//
// # Concurrency
//
// Every function is pure. PolygonIndex and PointIndex are immutable once
// built, so any number of goroutines may query one concurrently. A tenant's
// index is replaced by building a new one and swapping a pointer (for
// example an atomic.Pointer held by the caller, one per tenant); the package
// keeps no global mutable state.
package geo
