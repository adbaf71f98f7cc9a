package evidence

import (
	"encoding/binary"
	"math"
	"testing"
	"time"
)

// FuzzEXIF feeds arbitrary bytes to the EXIF reader, both as a JPEG and as
// a bare TIFF block. The seeds run in every `go test`; search further with
//
//	go test -run '^$' -fuzz FuzzEXIF -fuzztime 60s ./app/pkg/evidence/
func FuzzEXIF(f *testing.F) {
	le, be := byteOrder(binary.LittleEndian), byteOrder(binary.BigEndian)
	ii := cameraEXIF(le, caseLon, caseLat, "2026:11:20 09:30:15", "+08:00")
	mm := cameraEXIF(be, -43.1729, -22.9068, "2026:01:02 03:04:05", "")
	for _, seed := range [][]byte{
		minimalJPEG(ii),
		minimalJPEG(mm),
		minimalJPEG(ii)[:len(ii)/2],
		ii,
		mm,
		mm[:40],
		[]byte("II*\x00\x08\x00\x00\x00\xff\xff"),                                                 // 65535 entries promised, none there
		[]byte("MM\x00*\x00\x00\x00\x08\x00\x01\x88\x25\x00\x04\x00\x00\x00\x01\x00\x00\x00\x08"), // GPS IFD pointing back at IFD0
		{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0},
		{0xFF, 0xD8, 0xFF},
		nil,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, d := range []exifData{readJPEGEXIF(b, time.UTC), parseTIFF(b, time.UTC)} {
			if d.hasGPS && !(math.Abs(d.lat) <= 90 && math.Abs(d.lon) <= 180 && (d.lat != 0 || d.lon != 0)) {
				t.Fatalf("impossible position %v,%v", d.lon, d.lat)
			}
		}
	})
}
