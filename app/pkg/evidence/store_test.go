package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gocloud.dev/blob"
)

func TestPut(t *testing.T) {
	t.Parallel()
	jpg := encodeJPEG(t, photo(640, 480), 80)
	exifAt := func(lat float64) []byte {
		return withAPP1(jpg, cameraEXIF(binary.BigEndian, caseLon, lat, "2026:11:30 09:30:15", "+08:00"))
	}
	taken := time.Date(2026, 11, 30, 1, 30, 15, 0, time.UTC)
	tests := []struct {
		name     string
		kind     Kind
		data     []byte
		noCase   bool // no case location given
		wantErr  error
		wantType string
		check    func(t *testing.T, a *Attachment)
	}{
		{name: "jpeg with EXIF 150 m away", kind: KindBefore, data: exifAt(metresNorth(caseLat, 150)), wantType: TypeJPEG,
			check: func(t *testing.T, a *Attachment) {
				if a.LocationMismatch || a.DistanceM == nil || *a.DistanceM < 149 || *a.DistanceM > 151 {
					t.Errorf("distance %v, mismatch %v; want 150 m, no mismatch", deref(a.DistanceM), a.LocationMismatch)
				}
				if !a.TakenAt.Equal(taken) {
					t.Errorf("TakenAt = %v, want %v", a.TakenAt, taken)
				}
				if a.Width != 640 || a.Height != 480 {
					t.Errorf("size %d×%d", a.Width, a.Height)
				}
			}},
		{name: "jpeg with EXIF 250 m away is flagged", kind: KindAfter, data: exifAt(metresNorth(caseLat, 250)), wantType: TypeJPEG,
			check: func(t *testing.T, a *Attachment) {
				if !a.LocationMismatch || *a.DistanceM < 249 || *a.DistanceM > 251 {
					t.Errorf("distance %v, mismatch %v; want 250 m, mismatch", deref(a.DistanceM), a.LocationMismatch)
				}
			}},
		{name: "EXIF but no case location: no distance", kind: KindBefore, noCase: true, data: exifAt(metresNorth(caseLat, 5000)), wantType: TypeJPEG,
			check: func(t *testing.T, a *Attachment) {
				if a.ExifLon == nil || a.DistanceM != nil || a.LocationMismatch {
					t.Errorf("exif %v, distance %v, mismatch %v", a.ExifLon, a.DistanceM, a.LocationMismatch)
				}
			}},
		{name: "jpeg without EXIF: unknown, not a mismatch", kind: KindBefore, data: jpg, wantType: TypeJPEG,
			check: func(t *testing.T, a *Attachment) {
				if a.ExifLon != nil || a.DistanceM != nil || a.LocationMismatch || !a.TakenAt.IsZero() {
					t.Errorf("got EXIF data from a plain JPEG: %+v", a)
				}
			}},
		{name: "png screenshot", kind: KindAfter, data: encodePNG(t, photo(300, 200)), wantType: TypePNG},
		{name: "webp", kind: KindBefore, data: webpHeader(640, 480), wantType: TypeWebP,
			check: func(t *testing.T, a *Attachment) {
				if a.Width != 640 || a.Height != 480 {
					t.Errorf("size %d×%d", a.Width, a.Height)
				}
			}},
		{name: "pdf as document", kind: KindDocument, data: []byte(tinyPDF), wantType: TypePDF,
			check: func(t *testing.T, a *Attachment) {
				if a.Width != 0 || a.Height != 0 {
					t.Errorf("a PDF has size %d×%d", a.Width, a.Height)
				}
			}},
		{name: "photo as document", kind: KindDocument, data: jpg, wantType: TypeJPEG},
		{name: "pdf as before photo", kind: KindBefore, data: []byte(tinyPDF), wantErr: ErrUnsupportedType},
		{name: "truncated pdf", kind: KindDocument, data: []byte(tinyPDF[:60]), wantErr: ErrCorrupt},
		{name: "html", kind: KindDocument, data: []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), wantErr: ErrUnsupportedType},
		{name: "svg", kind: KindBefore, data: []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), wantErr: ErrUnsupportedType},
		{name: "html named .jpg", kind: KindBefore, data: []byte("<html><body>not a photo</body></html>"), wantErr: ErrUnsupportedType},
		{name: "gif is off by default", kind: KindBefore, data: []byte("GIF89a\x90\x01\x90\x01\x00\x00\x00;"), wantErr: ErrUnsupportedType},
		{name: "50×50 png", kind: KindBefore, data: encodePNG(t, photo(50, 50)), wantErr: ErrTooSmall},
		{name: "800×150 png", kind: KindBefore, data: encodePNG(t, photo(800, 150)), wantErr: ErrTooSmall},
		{name: "8193 px wide", kind: KindBefore, data: encodePNG(t, photo(8193, 200)), wantErr: ErrTooBig},
		{name: "png bomb header", kind: KindBefore, data: pngHeader(100000, 100000), wantErr: ErrTooBig},
		{name: "png header only, zero width", kind: KindBefore, data: pngHeader(0, 300), wantErr: ErrCorrupt},
		{name: "jpeg cut after SOI", kind: KindBefore, data: jpg[:20], wantErr: ErrCorrupt},
		{name: "empty", kind: KindBefore, data: nil, wantErr: ErrCorrupt},
		{name: "unknown kind", kind: "selfie", data: jpg, wantErr: ErrInvalid},
	}
	for backend, bucketURL := range backends(t) {
		s := openStore(t, bucketURL, Config{})
		for _, tt := range tests {
			t.Run(backend+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				in := PutInput{TenantCode: "450103", CaseNumber: "2026112000123", Kind: tt.kind,
					FileName: `C:\fakepath\现场照片.jpg`, Reader: bytes.NewReader(tt.data)}
				if !tt.noCase {
					in.CaseLon, in.CaseLat = ptr(caseLon), ptr(caseLat)
				}
				a, err := s.Put(context.Background(), in)
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Put: err = %v, want %v", err, tt.wantErr)
					}
					if reason, zh, en := Describe(err); reason == "" || zh == "" || en == "" {
						t.Errorf("Describe(%v) = %q, %q, %q", err, reason, zh, en)
					}
					return
				}
				if err != nil {
					t.Fatalf("Put: %v", err)
				}
				sum := sha256.Sum256(tt.data)
				if a.ContentType != tt.wantType || a.Size != int64(len(tt.data)) || a.SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("type %q size %d sha %s; want %q %d %x", a.ContentType, a.Size, a.SHA256, tt.wantType, len(tt.data), sum)
				}
				if a.FileName != "现场照片.jpg" || a.Kind != tt.kind || a.CaseNumber != "2026112000123" || a.TenantCode != "450103" {
					t.Errorf("descriptive fields: %+v", a)
				}
				// 17:00 UTC on 30 November is 1 December in China.
				if want := regexp.MustCompile(`^450103/2026/12/[a-z2-7]{26}\.` + extension(tt.wantType) + `$`); !want.MatchString(a.Key) {
					t.Errorf("key %q does not match %v", a.Key, want)
				}
				if tt.check != nil {
					tt.check(t, a)
				}

				// Stat rebuilds exactly what Put returned; Get returns the bytes.
				got, err := s.Stat(context.Background(), "450103", a.Key)
				if err != nil {
					t.Fatalf("Stat: %v", err)
				}
				if diff := cmp.Diff(a, got); diff != "" {
					t.Errorf("Stat differs from Put (-put +stat):\n%s", diff)
				}
				r, got, err := s.Get(context.Background(), "450103", a.Key)
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				defer r.Close()
				body, err := io.ReadAll(r)
				if err != nil || !bytes.Equal(body, tt.data) || cmp.Diff(a, got) != "" {
					t.Errorf("Get: %d bytes, err %v, attachment diff %s", len(body), err, cmp.Diff(a, got))
				}
			})
		}
	}
}

// pngHeader is a PNG signature and IHDR declaring w×h, with no image data:
// what a decompression bomb looks like to DecodeConfig.
func pngHeader(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
	b = binary.BigEndian.AppendUint32(b, w)
	b = binary.BigEndian.AppendUint32(b, h)
	b = append(b, 8, 2, 0, 0, 0) // 8-bit RGB
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[12:]))
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestPutTooLarge(t *testing.T) {
	t.Parallel()
	s := openStore(t, "mem://", Config{})
	// 11 MiB of a valid JPEG's start: refused by size before anything else.
	src := &countingReader{r: io.MultiReader(bytes.NewReader(encodeJPEG(t, photo(640, 480), 80)), zeros{})}
	_, err := s.Put(context.Background(), PutInput{TenantCode: "450103", Kind: KindBefore, Reader: io.LimitReader(src, 11<<20)})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if src.n > 10<<20+1 {
		t.Errorf("read %d bytes, want at most MaxBytes+1", src.n)
	}
	if reason, zh, en := Describe(err); reason != ReasonTooLarge || !strings.Contains(zh, "10 MiB") || !strings.Contains(en, "10 MiB") {
		t.Errorf("Describe = %q, %q, %q", reason, zh, en)
	}
	var e *Error
	if !errors.As(err, &e) || e.Field != "file" {
		t.Errorf("err %#v, want *Error for field file", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestPutInvalidInput(t *testing.T) {
	t.Parallel()
	s := openStore(t, "mem://", Config{})
	jpg := encodeJPEG(t, photo(300, 300), 80)
	tests := []struct {
		name  string
		in    PutInput
		field string
	}{
		{"no tenant", PutInput{Kind: KindBefore}, "tenant_code"},
		{"tenant with a slash", PutInput{TenantCode: "450103/../450102", Kind: KindBefore}, "tenant_code"},
		{"lower-case tenant", PutInput{TenantCode: "nn01", Kind: KindBefore}, "tenant_code"},
		{"case number with a newline", PutInput{TenantCode: "450103", Kind: KindBefore, CaseNumber: "2026\n1"}, "case_number"},
		{"half a location", PutInput{TenantCode: "450103", Kind: KindBefore, CaseLon: ptr(caseLon)}, "case_location"},
		{"location out of range", PutInput{TenantCode: "450103", Kind: KindBefore, CaseLon: ptr(caseLat), CaseLat: ptr(caseLon)}, "case_location"},
		{"no reader", PutInput{TenantCode: "450103", Kind: KindBefore}, "file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.in.Reader == nil && tt.field != "file" {
				tt.in.Reader = bytes.NewReader(jpg)
			}
			_, err := s.Put(context.Background(), tt.in)
			var e *Error
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.Field != tt.field {
				t.Fatalf("err = %v, want ErrInvalid on %s", err, tt.field)
			}
			if reason, _, _ := Describe(err); reason != ReasonInvalidArgument {
				t.Errorf("reason %q", reason)
			}
		})
	}
}

func TestPutCancelled(t *testing.T) {
	t.Parallel()
	s := openStore(t, "mem://", Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Put(ctx, PutInput{TenantCode: "450103", Kind: KindBefore, Reader: zeros{}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if reason, _, _ := Describe(err); reason != "" {
		t.Errorf("a cancelled upload got reason %q; it is not the user's file at fault", reason)
	}
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for backend, bucketURL := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			s := openStore(t, bucketURL, Config{})
			put := func(tenant string) *Attachment {
				a, err := s.Put(ctx, PutInput{TenantCode: tenant, Kind: KindBefore, Reader: bytes.NewReader(encodePNG(t, photo(300, 300)))})
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			a, b := put("450102"), put("450103")
			missing := "450102/2026/12/" + strings.Repeat("a", 26) + ".png"
			// A blob in A's prefix that claims to be B's (copied by hand):
			// served to neither.
			forged := "450102/2026/12/" + strings.Repeat("b", 26) + ".png"
			if err := s.bucket.WriteAll(ctx, forged, encodePNG(t, photo(300, 300)), &blob.WriterOptions{
				ContentType: TypePNG, Metadata: map[string]string{mdTenant: "450103", mdKind: "before"}}); err != nil {
				t.Fatal(err)
			}
			_, want := s.Stat(ctx, "450102", missing)
			if !errors.Is(want, ErrNotFound) {
				t.Fatalf("missing key: %v", want)
			}
			for _, key := range []string{
				b.Key,                              // B's key, asked for by A
				forged,                             // in A's prefix, B's metadata
				"450102/../" + b.Key,               // traversal
				"450102/2026/12/../../../" + b.Key, // traversal past the shape
				strings.Replace(b.Key, "450103", "450102/", 1),
				"450102/" + b.Key, // B's key nested under A
				"450102",          // the prefix itself
				"",                // nothing
			} {
				_, err := s.Stat(ctx, "450102", key)
				if err == nil || err.Error() != want.Error() || !errors.Is(err, ErrNotFound) {
					t.Errorf("Stat(A, %q) = %v; want exactly %v", key, err, want)
				}
				if _, _, err := s.Get(ctx, "450102", key); err == nil || err.Error() != want.Error() {
					t.Errorf("Get(A, %q) = %v; want exactly %v", key, err, want)
				}
				if err := s.Delete(ctx, "450102", key); err == nil || err.Error() != want.Error() {
					t.Errorf("Delete(A, %q) = %v; want exactly %v", key, err, want)
				}
			}
			// B's file survived A's attempts; A's own file works; delete
			// really deletes.
			if _, err := s.Stat(ctx, "450103", b.Key); err != nil {
				t.Fatalf("B's attachment after A's attempts: %v", err)
			}
			if err := s.Delete(ctx, "450102", a.Key); err != nil {
				t.Fatalf("Delete own: %v", err)
			}
			if _, err := s.Stat(ctx, "450102", a.Key); !errors.Is(err, ErrNotFound) {
				t.Errorf("Stat after Delete: %v", err)
			}
			if err := s.Delete(ctx, "450102", a.Key); !errors.Is(err, ErrNotFound) {
				t.Errorf("second Delete: %v", err)
			}
		})
	}
}

func TestPutConcurrent(t *testing.T) {
	t.Parallel()
	s := openStore(t, backends(t)["fileblob"], Config{})
	jpg := withAPP1(encodeJPEG(t, photo(400, 300), 80), cameraEXIF(binary.LittleEndian, caseLon, caseLat, "2026:11:30 09:30:15", ""))
	var wg sync.WaitGroup
	keys := make([]string, 16)
	for i := range keys {
		wg.Go(func() {
			a, err := s.Put(context.Background(), PutInput{TenantCode: "450103", Kind: KindAfter, Reader: bytes.NewReader(jpg),
				CaseLon: ptr(caseLon), CaseLat: ptr(caseLat)})
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = a.Key
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] {
			t.Errorf("key %q handed out twice", k)
		}
		seen[k] = true
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		url  string
		cfg  Config
	}{
		{"scheme not linked in", "gs://bucket", Config{}},
		{"scheme of no driver", "ftp://host/dir", Config{}},
		{"fileblob dropping metadata", "file://" + dir + "?metadata=skip", Config{}},
		{"missing directory without create_dir", "file://" + dir + "/nope", Config{}},
		{"unknown parameter", "mem://?foo=bar", Config{}},
		{"min above max", "mem://", Config{MinWidth: 9000}},
		{"type that cannot be verified", "mem://", Config{PhotoTypes: []string{"image/heic"}}},
		{"pdf as a photo", "mem://", Config{PhotoTypes: []string{TypePDF}}},
		{"negative size", "mem://", Config{MaxBytes: -1}},
		{"size that cannot be buffered", "mem://", Config{MaxBytes: 1 << 40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(context.Background(), tt.url, tt.cfg)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestConfigTypes(t *testing.T) {
	t.Parallel()
	gif := []byte("GIF89a\x90\x01\x90\x01\x00\x00\x00;") // 400×400
	s := openStore(t, "mem://", Config{PhotoTypes: []string{TypeJPEG, TypeGIF}})
	a, err := s.Put(context.Background(), PutInput{TenantCode: "450103", Kind: KindBefore, Reader: bytes.NewReader(gif)})
	if err != nil {
		t.Fatalf("gif with gif allowed: %v", err)
	}
	if a.Width != 400 || !strings.HasSuffix(a.Key, ".gif") {
		t.Errorf("%+v", a)
	}
	_, err = s.Put(context.Background(), PutInput{TenantCode: "450103", Kind: KindBefore, Reader: bytes.NewReader(encodePNG(t, photo(300, 300)))})
	if !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("png with only jpeg and gif allowed: %v", err)
	}
}

func TestCleanFileName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"IMG_0001.JPG", "IMG_0001.JPG"},
		{`C:\Users\张三\Desktop\现场.jpg`, "现场.jpg"},
		{"/etc/passwd", "passwd"},
		{"../../x.png", "x.png"},
		{"a\x00b\nc.jpg", "abc.jpg"},
		{"bad\xffutf8.jpg", "badutf8.jpg"},
		{"", ""},
		{"/", ""},
		{strings.Repeat("长", 100) + ".jpg", strings.Repeat("长", 66)},
	}
	for _, tt := range tests {
		if got := cleanFileName(tt.in); got != tt.want {
			t.Errorf("cleanFileName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestOpenRelativeDir checks the platform's default form, a directory
// relative to the working directory. Not parallel: it changes directory.
func TestOpenRelativeDir(t *testing.T) {
	t.Chdir(t.TempDir())
	s := openStore(t, "file://./var/evidence?create_dir=true", Config{})
	a, err := s.Put(context.Background(), PutInput{TenantCode: "450103", Kind: KindBefore, Reader: bytes.NewReader(encodePNG(t, photo(300, 300)))})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{a.Key, a.Key + ".attrs"} { // the bytes and fileblob's metadata sidecar
		if _, err := os.Stat(filepath.Join("var", "evidence", filepath.FromSlash(name))); err != nil {
			t.Error(err)
		}
	}
}
