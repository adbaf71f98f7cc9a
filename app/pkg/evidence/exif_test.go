package evidence

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

func TestParseEXIF(t *testing.T) {
	t.Parallel()
	cst := time.FixedZone("CST", 8*3600)
	le, be := byteOrder(binary.LittleEndian), byteOrder(binary.BigEndian)
	tests := []struct {
		name      string
		tiff      []byte
		wantGPS   bool
		lon, lat  float64
		wantTaken time.Time
	}{
		{"II, Nanning, with offset", cameraEXIF(le, caseLon, caseLat, "2026:11:20 09:30:15", "+08:00"),
			true, caseLon, caseLat, time.Date(2026, 11, 20, 1, 30, 15, 0, time.UTC)},
		{"MM, Nanning, with offset", cameraEXIF(be, caseLon, caseLat, "2026:11:20 09:30:15", "+08:00"),
			true, caseLon, caseLat, time.Date(2026, 11, 20, 1, 30, 15, 0, time.UTC)},
		{"MM, no offset: read in CST", cameraEXIF(be, caseLon, caseLat, "2026:11:20 09:30:15", ""),
			true, caseLon, caseLat, time.Date(2026, 11, 20, 9, 30, 15, 0, cst)},
		{"II, other offset", cameraEXIF(le, caseLon, caseLat, "2026:11:20 09:30:15", "+02:00"),
			true, caseLon, caseLat, time.Date(2026, 11, 20, 7, 30, 15, 0, time.UTC)},
		{"II, south and west", cameraEXIF(le, -43.1729, -22.9068, "2026:01:02 03:04:05", "-03:00"),
			true, -43.1729, -22.9068, time.Date(2026, 1, 2, 6, 4, 5, 0, time.UTC)},
		{"blank time from a camera without a clock", cameraEXIF(le, caseLon, caseLat, "    :  :     :  :  ", ""),
			true, caseLon, caseLat, time.Time{}},
		{"zero time", cameraEXIF(be, caseLon, caseLat, "0000:00:00 00:00:00", ""), true, caseLon, caseLat, time.Time{}},
		{"bad offset falls back to CST", cameraEXIF(le, caseLon, caseLat, "2026:11:20 09:30:15", "+8h:00"),
			true, caseLon, caseLat, time.Date(2026, 11, 20, 9, 30, 15, 0, cst)},
		{"null island means no fix", cameraEXIF(le, 0, 0, "2026:11:20 09:30:15", "+08:00"),
			false, 0, 0, time.Date(2026, 11, 20, 1, 30, 15, 0, time.UTC)},
		{"zero denominator", buildTIFF(le, nil, nil, []tEntry{
			asciiEntry(tagGPSLatitudeRef, "N"), rationalEntry(le, tagGPSLatitude, 22, 0, 49, 1, 0, 1),
			asciiEntry(tagGPSLongitudeRef, "E"), rationalEntry(le, tagGPSLongitude, 108, 1, 21, 1, 0, 1),
		}), false, 0, 0, time.Time{}},
		{"missing reference", buildTIFF(le, nil, nil, []tEntry{
			rationalEntry(le, tagGPSLatitude, 22, 1, 49, 1, 0, 1),
			asciiEntry(tagGPSLongitudeRef, "E"), rationalEntry(le, tagGPSLongitude, 108, 1, 21, 1, 0, 1),
		}), false, 0, 0, time.Time{}},
		{"unknown reference", buildTIFF(le, nil, nil, []tEntry{
			asciiEntry(tagGPSLatitudeRef, "X"), rationalEntry(le, tagGPSLatitude, 22, 1, 49, 1, 0, 1),
			asciiEntry(tagGPSLongitudeRef, "E"), rationalEntry(le, tagGPSLongitude, 108, 1, 21, 1, 0, 1),
		}), false, 0, 0, time.Time{}},
		{"decimal degrees in one rational", buildTIFF(be, nil, nil, []tEntry{
			asciiEntry(tagGPSLatitudeRef, "N"), rationalEntry(be, tagGPSLatitude, 228170, 10000),
			asciiEntry(tagGPSLongitudeRef, "E"), rationalEntry(be, tagGPSLongitude, 1083661, 10000),
		}), true, 108.3661, 22.8170, time.Time{}},
		{"latitude out of range", buildTIFF(le, nil, nil, []tEntry{
			asciiEntry(tagGPSLatitudeRef, "N"), rationalEntry(le, tagGPSLatitude, 91, 1, 0, 1, 0, 1),
			asciiEntry(tagGPSLongitudeRef, "E"), rationalEntry(le, tagGPSLongitude, 108, 1, 0, 1, 0, 1),
		}), false, 0, 0, time.Time{}},
		{"minutes out of range", buildTIFF(le, nil, nil, []tEntry{
			asciiEntry(tagGPSLatitudeRef, "N"), rationalEntry(le, tagGPSLatitude, 22, 1, 61, 1, 0, 1),
			asciiEntry(tagGPSLongitudeRef, "E"), rationalEntry(le, tagGPSLongitude, 108, 1, 0, 1, 0, 1),
		}), false, 0, 0, time.Time{}},
		{"coordinates as the wrong type", buildTIFF(le, nil, nil, []tEntry{
			asciiEntry(tagGPSLatitudeRef, "N"), {tag: tagGPSLatitude, typ: typeLong, count: 1, data: []byte{22, 0, 0, 0}},
			asciiEntry(tagGPSLongitudeRef, "E"), {tag: tagGPSLongitude, typ: typeLong, count: 1, data: []byte{108, 0, 0, 0}},
		}), false, 0, 0, time.Time{}},
		{"rational count far beyond the data", buildTIFF(le, nil, nil, []tEntry{
			asciiEntry(tagGPSLatitudeRef, "N"), {tag: tagGPSLatitude, typ: typeRational, count: 0xFFFFFFFF, data: make([]byte, 24)},
			asciiEntry(tagGPSLongitudeRef, "E"), rationalEntry(le, tagGPSLongitude, 108, 1, 0, 1, 0, 1),
		}), false, 0, 0, time.Time{}},
		{"not TIFF", []byte("JFIF\x00\x01\x02\x03\x04\x05"), false, 0, 0, time.Time{}},
		{"empty", nil, false, 0, 0, time.Time{}},
		{"IFD0 offset beyond the end", []byte("II*\x00\xff\xff\xff\xff"), false, 0, 0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, in := range [][]byte{tt.tiff, minimalJPEG(tt.tiff)} {
				var got exifData
				if len(in) > 0 && in[0] == 0xFF {
					got = readJPEGEXIF(in, cst)
				} else {
					got = parseTIFF(in, cst)
				}
				if got.hasGPS != tt.wantGPS {
					t.Fatalf("hasGPS = %v, want %v", got.hasGPS, tt.wantGPS)
				}
				if tt.wantGPS && (math.Abs(got.lon-tt.lon) > 1e-6 || math.Abs(got.lat-tt.lat) > 1e-6) {
					t.Errorf("position = %.7f,%.7f, want %.7f,%.7f", got.lon, got.lat, tt.lon, tt.lat)
				}
				if !got.taken.Equal(tt.wantTaken) {
					t.Errorf("taken = %v, want %v", got.taken, tt.wantTaken)
				}
			}
		})
	}
}

func TestJPEGEXIFSegments(t *testing.T) {
	t.Parallel()
	tiff := cameraEXIF(binary.LittleEndian, caseLon, caseLat, "2026:11:20 09:30:15", "+08:00")
	app0 := []byte{0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0}
	const xmpBody = "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"
	xmp := append([]byte{0xFF, 0xE1, 0x00, byte(2 + len(xmpBody))}, xmpBody...)
	tests := []struct {
		name string
		jpg  []byte
		want bool
	}{
		{"APP1 first", minimalJPEG(tiff), true},
		{"after JFIF APP0 and an XMP APP1", func() []byte {
			b := append([]byte{0xFF, 0xD8}, app0...)
			b = append(b, xmp...)
			b = append(b, 0xFF) // a fill byte before the next marker
			return append(b, minimalJPEG(tiff)[2:]...)
		}(), true},
		{"after the scan", func() []byte {
			b := []byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02}
			return append(b, minimalJPEG(tiff)[2:]...)
		}(), false},
		{"not a JPEG", append([]byte{0x89, 'P', 'N', 'G'}, minimalJPEG(tiff)...), false},
		{"segment length below 2", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01, 0x00}, false},
		{"segment length past the end", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x'}, false},
		{"only fill bytes", []byte{0xFF, 0xD8, 0xFF, 0xFF, 0xFF}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := readJPEGEXIF(tt.jpg, time.UTC).hasGPS; got != tt.want {
				t.Errorf("hasGPS = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestEXIFDamaged feeds every prefix of a real EXIF JPEG, and every
// single-byte corruption of its EXIF block, to the reader: none may panic
// or produce an impossible position.
func TestEXIFDamaged(t *testing.T) {
	t.Parallel()
	for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		jpg := withAPP1(encodeJPEG(t, photo(16, 16), 75), cameraEXIF(bo, caseLon, caseLat, "2026:11:20 09:30:15", "+08:00"))
		exifEnd := 4 + 2 + 6 + len(cameraEXIF(bo, caseLon, caseLat, "2026:11:20 09:30:15", "+08:00"))
		for n := range exifEnd + 1 {
			checkEXIF(t, readJPEGEXIF(jpg[:n], time.UTC))
		}
		for i := 2; i < exifEnd; i++ {
			for _, v := range []byte{0x00, 0xFF, 0x80, jpg[i] ^ 0x01} {
				mut := append([]byte{}, jpg...)
				mut[i] = v
				checkEXIF(t, readJPEGEXIF(mut, time.UTC))
			}
		}
	}
}

func checkEXIF(t *testing.T, d exifData) {
	t.Helper()
	if d.hasGPS && !(math.Abs(d.lat) <= 90 && math.Abs(d.lon) <= 180) {
		t.Fatalf("impossible position %v,%v", d.lon, d.lat)
	}
}
