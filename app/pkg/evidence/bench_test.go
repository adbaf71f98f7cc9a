package evidence

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
)

// BenchmarkPut stores a 2 MB camera JPEG with EXIF on fileblob: reading,
// sniffing, header decode, EXIF, sha256 and the write with its metadata
// sidecar.
func BenchmarkPut(b *testing.B) {
	jpg := withAPP1(noiseJPEG(b, 1700, 1200), cameraEXIF(binary.LittleEndian, caseLon, caseLat, "2026:11:30 09:30:15", "+08:00"))
	if len(jpg) < 1_900_000 || len(jpg) > 2_200_000 {
		b.Fatalf("fixture is %d bytes, want about 2 MB", len(jpg))
	}
	s := openStore(b, backends(b)["fileblob"], Config{})
	ctx := context.Background()
	b.SetBytes(int64(len(jpg)))
	b.ReportAllocs()
	for b.Loop() {
		_, err := s.Put(ctx, PutInput{TenantCode: "450103", CaseNumber: "2026113000001", Kind: KindBefore,
			FileName: "IMG_0001.jpg", Reader: bytes.NewReader(jpg), CaseLon: ptr(caseLon), CaseLat: ptr(caseLat)})
		if err != nil {
			b.Fatal(err)
		}
	}
}
