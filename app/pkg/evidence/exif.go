package evidence

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"time"
)

// exifData is what Put takes from a photo's EXIF block. Everything in it
// is optional: a photo without EXIF, or with EXIF the reader cannot make
// sense of, is stored all the same.
type exifData struct {
	hasGPS   bool
	lon, lat float64   // WGS84 degrees, valid when hasGPS
	taken    time.Time // DateTimeOriginal; zero when absent
}

// Bounds on the work the reader does for one file. Real files have a
// handful of JPEG segments before the scan and a few dozen IFD entries;
// the bounds only keep hostile input from costing more than a few
// thousand steps.
const (
	maxJPEGSegments = 1024
	maxIFDEntries   = 1024
)

// TIFF tags the reader looks at.
const (
	tagExifIFD            = 0x8769
	tagGPSIFD             = 0x8825
	tagDateTimeOriginal   = 0x9003
	tagOffsetTimeOriginal = 0x9011
	tagGPSLatitudeRef     = 0x0001
	tagGPSLatitude        = 0x0002
	tagGPSLongitudeRef    = 0x0003
	tagGPSLongitude       = 0x0004
)

// TIFF field types the reader understands.
const (
	typeByte      = 1
	typeASCII     = 2
	typeShort     = 3
	typeLong      = 4
	typeRational  = 5
	typeUndefined = 7
	typeSLong     = 9
	typeSRational = 10
	typeIFD       = 13
)

// readJPEGEXIF returns the EXIF data of a JPEG file; see jpegEXIF and
// parseTIFF.
func readJPEGEXIF(b []byte, loc *time.Location) exifData {
	return parseTIFF(jpegEXIF(b), loc)
}

// jpegEXIF returns the TIFF payload of the first APP1 "Exif" segment of a
// JPEG file, or nil. It walks the marker segments up to the start of scan;
// EXIF written after the scan would not be seen by any other reader either.
func jpegEXIF(b []byte) []byte {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil
	}
	p := 2
	for range maxJPEGSegments {
		if p >= len(b) || b[p] != 0xFF {
			return nil
		}
		// A marker may be preceded by any number of 0xFF fill bytes.
		for p < len(b) && b[p] == 0xFF {
			p++
		}
		if p >= len(b) {
			return nil
		}
		marker := b[p]
		p++
		switch {
		case marker == 0xD8, marker == 0x01, marker >= 0xD0 && marker <= 0xD7:
			continue // standalone markers carry no length
		case marker == 0xD9, marker == 0xDA:
			return nil // end of image, start of scan: no metadata follows
		}
		if p+2 > len(b) {
			return nil
		}
		n := int(binary.BigEndian.Uint16(b[p:]))
		if n < 2 || p+n > len(b) {
			return nil
		}
		payload := b[p+2 : p+n]
		if marker == 0xE1 {
			if tiff, ok := bytes.CutPrefix(payload, []byte("Exif\x00\x00")); ok {
				return tiff
			}
		}
		p += n
	}
	return nil
}

// tiffReader reads a TIFF structure (the body of an EXIF block) with every
// access bounds-checked: offsets come from the file and may point anywhere.
type tiffReader struct {
	b  []byte
	bo binary.ByteOrder
}

// ifdEntry is one 12-byte IFD entry; field is the offset in b of its 4-byte
// value-or-offset field.
type ifdEntry struct {
	tag, typ uint16
	count    uint32
	field    uint32
}

func (t tiffReader) u16(off uint64) (uint16, bool) {
	if off+2 > uint64(len(t.b)) {
		return 0, false
	}
	return t.bo.Uint16(t.b[off:]), true
}

func (t tiffReader) u32(off uint64) (uint32, bool) {
	if off+4 > uint64(len(t.b)) {
		return 0, false
	}
	return t.bo.Uint32(t.b[off:]), true
}

// entries calls fn for each entry of the IFD at off. It does not follow the
// next-IFD link: the reader only needs IFD0 and the two sub-IFDs it points
// to, so there is no chain a hostile file could loop.
func (t tiffReader) entries(off uint32, fn func(ifdEntry)) {
	n, ok := t.u16(uint64(off))
	if !ok {
		return
	}
	for i := range min(int(n), maxIFDEntries) {
		p := uint64(off) + 2 + 12*uint64(i)
		if p+12 > uint64(len(t.b)) {
			return
		}
		fn(ifdEntry{
			tag:   t.bo.Uint16(t.b[p:]),
			typ:   t.bo.Uint16(t.b[p+2:]),
			count: t.bo.Uint32(t.b[p+4:]),
			field: uint32(p + 8),
		})
	}
}

func typeSize(typ uint16) uint64 {
	switch typ {
	case typeByte, typeASCII, typeUndefined:
		return 1
	case typeShort:
		return 2
	case typeLong, typeSLong, typeIFD:
		return 4
	case typeRational, typeSRational:
		return 8
	}
	return 0
}

// value returns the bytes of an entry's value: inline when it fits in four
// bytes, else at the offset the field holds.
func (t tiffReader) value(e ifdEntry) ([]byte, bool) {
	size := typeSize(e.typ) * uint64(e.count) // ≤ 8 × (2³²−1): no overflow
	if size == 0 {
		return nil, false
	}
	start := uint64(e.field)
	if size > 4 {
		off, ok := t.u32(start)
		if !ok {
			return nil, false
		}
		start = uint64(off)
	}
	if start+size > uint64(len(t.b)) {
		return nil, false
	}
	return t.b[start : start+size], true
}

// pointer returns the sub-IFD offset an entry holds.
func (t tiffReader) pointer(e ifdEntry) (uint32, bool) {
	if (e.typ != typeLong && e.typ != typeIFD) || e.count != 1 {
		return 0, false
	}
	off, ok := t.u32(uint64(e.field))
	return off, ok && off >= 8
}

// ascii returns an ASCII entry's text up to its first NUL, trimmed.
func (t tiffReader) ascii(e ifdEntry) (string, bool) {
	if e.typ != typeASCII {
		return "", false
	}
	v, ok := t.value(e)
	if !ok {
		return "", false
	}
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(string(v)), true
}

// rationals returns up to three (signed) rationals as floats; a zero
// denominator makes the whole value unusable.
func (t tiffReader) rationals(e ifdEntry) ([]float64, bool) {
	if (e.typ != typeRational && e.typ != typeSRational) || e.count == 0 {
		return nil, false
	}
	v, ok := t.value(e)
	if !ok {
		return nil, false
	}
	n := min(int(e.count), 3)
	out := make([]float64, n)
	for i := range n {
		num, den := t.bo.Uint32(v[8*i:]), t.bo.Uint32(v[8*i+4:])
		if den == 0 {
			return nil, false
		}
		if e.typ == typeSRational {
			out[i] = float64(int32(num)) / float64(int32(den))
		} else {
			out[i] = float64(num) / float64(den)
		}
	}
	return out, true
}

// parseTIFF reads GPS position and DateTimeOriginal from a TIFF structure.
// It never fails: whatever it cannot read is left zero.
func parseTIFF(b []byte, loc *time.Location) exifData {
	var d exifData
	if len(b) < 8 {
		return d
	}
	t := tiffReader{b: b}
	switch string(b[:4]) {
	case "II*\x00":
		t.bo = binary.LittleEndian
	case "MM\x00*":
		t.bo = binary.BigEndian
	default:
		return d
	}
	ifd0, _ := t.u32(4)
	var exifIFD, gpsIFD uint32
	t.entries(ifd0, func(e ifdEntry) {
		switch e.tag {
		case tagExifIFD:
			exifIFD, _ = t.pointer(e)
		case tagGPSIFD:
			gpsIFD, _ = t.pointer(e)
		}
	})
	if exifIFD != 0 {
		var dt, off string
		t.entries(exifIFD, func(e ifdEntry) {
			switch e.tag {
			case tagDateTimeOriginal:
				dt, _ = t.ascii(e)
			case tagOffsetTimeOriginal:
				off, _ = t.ascii(e)
			}
		})
		d.taken = parseEXIFTime(dt, off, loc)
	}
	if gpsIFD != 0 {
		var latRef, lonRef string
		var lat, lon []float64
		t.entries(gpsIFD, func(e ifdEntry) {
			switch e.tag {
			case tagGPSLatitudeRef:
				latRef, _ = t.ascii(e)
			case tagGPSLatitude:
				lat, _ = t.rationals(e)
			case tagGPSLongitudeRef:
				lonRef, _ = t.ascii(e)
			case tagGPSLongitude:
				lon, _ = t.rationals(e)
			}
		})
		la, okLat := coordinate(lat, latRef, "N", "S", 90)
		lo, okLon := coordinate(lon, lonRef, "E", "W", 180)
		// 0,0 is what many cameras write when they had no fix.
		if okLat && okLon && (la != 0 || lo != 0) {
			d.hasGPS, d.lat, d.lon = true, la, lo
		}
	}
	return d
}

// coordinate turns degrees, minutes, seconds and a hemisphere reference
// into signed decimal degrees. A missing or unknown reference makes the
// coordinate unusable rather than guessed: a wrong hemisphere would flag a
// genuine photo as taken on the other side of the world.
func coordinate(dms []float64, ref, pos, neg string, limit float64) (float64, bool) {
	if len(dms) == 0 {
		return 0, false
	}
	v := 0.0
	for i, part := range dms {
		// Minutes and seconds above 60 are not a position; allow 60 itself,
		// which rounding in some writers produces.
		if !(part >= 0) || math.IsInf(part, 0) || (i > 0 && part > 60) {
			return 0, false
		}
		v += part / math.Pow(60, float64(i))
	}
	if v > limit {
		return 0, false
	}
	switch strings.ToUpper(ref) {
	case pos:
		return v, true
	case neg:
		return -v, true
	}
	return 0, false
}

// parseEXIFTime reads "2006:01:02 15:04:05" with an optional "+08:00"
// offset; without a usable offset the time is read in loc. Cameras without
// a set clock write blanks or zeros, which yield the zero time.
func parseEXIFTime(dt, offset string, loc *time.Location) time.Time {
	if len(dt) != len("2006:01:02 15:04:05") {
		return time.Time{}
	}
	if len(offset) == len("-07:00") {
		if t, err := time.Parse("2006:01:02 15:04:05-07:00", dt+offset); err == nil {
			return t
		}
	}
	t, err := time.ParseInLocation("2006:01:02 15:04:05", dt, loc)
	if err != nil {
		return time.Time{}
	}
	return t
}
