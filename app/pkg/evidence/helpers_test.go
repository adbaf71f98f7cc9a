package evidence

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"testing"
	"time"
)

// Nanning, People's Square: the case location most tests use.
const caseLon, caseLat = 108.3661, 22.8170

// metresNorth returns the latitude d metres north of lat (on the sphere
// geo.Haversine uses, so distances come out as given).
func metresNorth(lat, d float64) float64 { return lat + d/6371008.8*180/math.Pi }

// testNow is 2026-11-30 17:00 UTC, which is already December in China:
// keys must use the CST month.
var testNow = time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)

// backends lists the buckets every store test runs on.
func backends(t testing.TB) map[string]string {
	dir := filepath.ToSlash(t.TempDir())
	return map[string]string{
		"fileblob": (&url.URL{Scheme: "file", Path: dir, RawQuery: "create_dir=true"}).String(),
		"memblob":  "mem://",
	}
}

func openStore(t testing.TB, bucketURL string, cfg Config) *Store {
	t.Helper()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	s, err := Open(context.Background(), bucketURL, cfg)
	if err != nil {
		t.Fatalf("Open(%q): %v", bucketURL, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// photo returns a w×h image with some structure, so encoders produce
// realistic output.
func photo(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// noiseJPEG is a w×h JPEG of random pixels, which compresses badly: the
// way to get a realistically large file.
func noiseJPEG(t testing.TB, w, h int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	return encodeJPEG(t, img, 92)
}

// withAPP1 inserts an APP1 "Exif" segment holding tiff right after SOI, as
// cameras write it.
func withAPP1(jpg, tiff []byte) []byte {
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+6+len(tiff)))
	seg = append(seg, "Exif\x00\x00"...)
	seg = append(seg, tiff...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// minimalJPEG is SOI + APP1 + EOI: enough for the EXIF reader, small enough
// for fuzz seeds.
func minimalJPEG(tiff []byte) []byte { return withAPP1([]byte{0xFF, 0xD8, 0xFF, 0xD9}, tiff) }

// tEntry is an IFD entry for buildTIFF; data is the raw value in the
// file's byte order.
type tEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

func asciiEntry(tag uint16, s string) tEntry {
	return tEntry{tag: tag, typ: typeASCII, count: uint32(len(s) + 1), data: append([]byte(s), 0)}
}

func rationalEntry(bo byteOrder, tag uint16, pairs ...uint32) tEntry {
	var d []byte
	for _, v := range pairs {
		d = bo.AppendUint32(d, v)
	}
	return tEntry{tag: tag, typ: typeRational, count: uint32(len(pairs) / 2), data: d}
}

// dms splits decimal degrees into the three rationals cameras write.
func dms(bo byteOrder, tag uint16, v float64) tEntry {
	v = math.Abs(v)
	deg := math.Floor(v)
	m := math.Floor((v - deg) * 60)
	sec := ((v-deg)*60 - m) * 60
	return rationalEntry(bo, tag, uint32(deg), 1, uint32(m), 1, uint32(math.Round(sec*10000)), 10000)
}

// buildTIFF lays out a TIFF header, IFD0 (with pointers to the Exif and GPS
// IFDs when those are non-nil), then the Exif IFD, then the GPS IFD.
func buildTIFF(bo byteOrder, ifd0, exif, gps []tEntry) []byte {
	ptr := func(tag uint16) tEntry { return tEntry{tag: tag, typ: typeLong, count: 1, data: make([]byte, 4)} }
	all0 := append([]tEntry{}, ifd0...)
	if exif != nil {
		all0 = append(all0, ptr(tagExifIFD))
	}
	if gps != nil {
		all0 = append(all0, ptr(tagGPSIFD))
	}
	offExif := 8 + ifdSize(all0)
	offGPS := offExif + ifdSize(exif)
	for i := range all0 {
		switch all0[i].tag {
		case tagExifIFD:
			bo.PutUint32(all0[i].data, uint32(offExif))
		case tagGPSIFD:
			bo.PutUint32(all0[i].data, uint32(offGPS))
		}
	}
	out := []byte("II*\x00")
	if bo == binary.BigEndian {
		out = []byte("MM\x00*")
	}
	out = bo.AppendUint32(out, 8)
	out = writeIFD(out, bo, all0)
	if exif != nil {
		out = writeIFD(out, bo, exif)
	}
	if gps != nil {
		out = writeIFD(out, bo, gps)
	}
	return out
}

func ifdSize(es []tEntry) int {
	if es == nil {
		return 0
	}
	n := 2 + 12*len(es) + 4
	for _, e := range es {
		if len(e.data) > 4 {
			n += len(e.data) + len(e.data)%2
		}
	}
	return n
}

func writeIFD(out []byte, bo byteOrder, es []tEntry) []byte {
	dataOff := len(out) + 2 + 12*len(es) + 4
	var extra []byte
	out = bo.AppendUint16(out, uint16(len(es)))
	for _, e := range es {
		out = bo.AppendUint16(out, e.tag)
		out = bo.AppendUint16(out, e.typ)
		out = bo.AppendUint32(out, e.count)
		if len(e.data) <= 4 {
			v := make([]byte, 4)
			copy(v, e.data)
			out = append(out, v...)
			continue
		}
		out = bo.AppendUint32(out, uint32(dataOff+len(extra)))
		extra = append(extra, e.data...)
		if len(e.data)%2 == 1 {
			extra = append(extra, 0) // TIFF values start on word boundaries
		}
	}
	out = bo.AppendUint32(out, 0) // no next IFD
	return append(out, extra...)
}

// cameraEXIF is the EXIF block of a phone photo taken at lon, lat: GPS in
// degrees/minutes/seconds with hemisphere references, DateTimeOriginal and,
// when offset is not empty, OffsetTimeOriginal.
func cameraEXIF(bo byteOrder, lon, lat float64, taken, offset string) []byte {
	latRef, lonRef := "N", "E"
	if lat < 0 {
		latRef = "S"
	}
	if lon < 0 {
		lonRef = "W"
	}
	exif := []tEntry{asciiEntry(tagDateTimeOriginal, taken)}
	if offset != "" {
		exif = append(exif, asciiEntry(tagOffsetTimeOriginal, offset))
	}
	gps := []tEntry{
		{tag: 0x0000, typ: typeByte, count: 4, data: []byte{2, 3, 0, 0}}, // GPSVersionID
		asciiEntry(tagGPSLatitudeRef, latRef),
		dms(bo, tagGPSLatitude, lat),
		asciiEntry(tagGPSLongitudeRef, lonRef),
		dms(bo, tagGPSLongitude, lon),
	}
	ifd0 := []tEntry{asciiEntry(0x010F, "Xiaomi"), asciiEntry(0x0110, "23127PN0CC")} // Make, Model
	return buildTIFF(bo, ifd0, exif, gps)
}

// tinyPDF is a minimal well-formed PDF.
const tinyPDF = "%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n" +
	"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n" +
	"trailer <</Root 1 0 R>>\n%%EOF\n"

// webpHeader is the start of a lossless WebP of w×h pixels: enough for
// DetectContentType and webp.DecodeConfig, which is all Put reads.
func webpHeader(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14
	chunk := binary.LittleEndian.AppendUint32([]byte{0x2f}, bits)
	chunk = append(chunk, make([]byte, 11)...) // some image data, padded even
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+8+len(chunk)))
	b = append(b, "WEBPVP8L"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(chunk)))
	return append(b, chunk...)
}

func ptr[T any](v T) *T { return &v }

// byteOrder is both halves of encoding/binary's byte-order API, which
// LittleEndian and BigEndian implement.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}
