package evidence

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/blob/s3blob"
	"gocloud.dev/gcerrors"

	"github.com/cityops/cityops/app/pkg/geo"
)

// Store keeps case attachments in one bucket. It is safe for concurrent
// use.
type Store struct {
	bucket *blob.Bucket
	cfg    Config
}

// Open opens the bucket at bucketURL and checks that it is reachable, so
// that a wrong URL or missing credentials fail at start-up rather than at
// the first upload. Three schemes are understood:
//
//	file:///abs/dir?create_dir=true    local directory (fileblob)
//	file://./var/evidence?create_dir=true    the same, relative to the working directory
//	s3://bucket?endpoint=https://minio:9000&region=cn-south-1&use_path_style=true
//	mem://    in memory, for tests
//
// S3 credentials come from the usual AWS environment variables or shared
// config, never from the URL; MinIO needs use_path_style=true, and some
// S3-compatible services need request_checksum_calculation=when_required.
// The S3 principal needs ListBucket (the reachability check, and so that a
// missing key reads as not found rather than access denied), GetObject,
// PutObject and DeleteObject on the bucket.
//
// The schemes are resolved by a mux built here, not gocloud's global one,
// so that no other driver linked into the binary can be selected by
// configuration. Close releases the bucket.
func Open(ctx context.Context, bucketURL string, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Copies, so that a caller changing its slices later cannot change
	// what an open store accepts.
	cfg.PhotoTypes = slices.Clone(cfg.PhotoTypes)
	cfg.DocumentTypes = slices.Clone(cfg.DocumentTypes)

	u, err := url.Parse(bucketURL)
	if err != nil {
		return nil, fmt.Errorf("evidence: open: %w", err)
	}
	// Attachments live in their metadata; a bucket that drops it would
	// accept uploads that Stat can never find again.
	if u.Scheme == fileblob.Scheme && u.Query().Get("metadata") != "" {
		return nil, errors.New("evidence: open: fileblob must keep metadata; remove the metadata parameter")
	}
	mux := new(blob.URLMux)
	mux.RegisterBucket(fileblob.Scheme, &fileblob.URLOpener{})
	mux.RegisterBucket(s3blob.Scheme, &s3blob.URLOpener{}) // fresh: its OpenBucketURL mutates Options
	mux.RegisterBucket(memblob.Scheme, &memblob.URLOpener{})
	b, err := mux.OpenBucketURL(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("evidence: open: %w", err)
	}
	ok, err := b.IsAccessible(ctx)
	if err == nil && !ok {
		err = errors.New("bucket does not exist")
	}
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("evidence: open %s://%s: %w", u.Scheme, u.Host, err)
	}
	return &Store{bucket: b, cfg: cfg}, nil
}

// Close releases the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// PutInput is one upload.
type PutInput struct {
	// TenantCode is the owning tenant (its GB/T 2260 code or management
	// area code); the key starts with it.
	TenantCode string
	// CaseNumber is the case the file belongs to; empty when a reporter
	// uploads photos before the case exists. Informational: the case
	// record, not this field, is what links a case to its attachments.
	CaseNumber string
	// Kind says what the file is evidence of.
	Kind Kind
	// FileName is the client's name for the file, kept for display only;
	// nothing is derived from it.
	FileName string
	// Reader supplies the bytes; Put reads at most Config.MaxBytes+1.
	Reader io.Reader
	// CaseLon and CaseLat are the case location (WGS84). Both or neither;
	// with them and a GPS position in the photo, Put measures the distance.
	CaseLon, CaseLat *float64
}

// Attachment describes a stored file. Put returns it and Stat rebuilds the
// same value from the blob's attributes.
type Attachment struct {
	Key         string
	TenantCode  string
	CaseNumber  string
	Kind        Kind
	FileName    string
	ContentType string // sniffed from the bytes
	Size        int64
	SHA256      string // hex
	// Width and Height are the stored pixel size; 0 for a PDF.
	Width, Height int
	// ExifLon and ExifLat are the photo's GPS position (WGS84), nil when it
	// has none.
	ExifLon, ExifLat *float64
	// TakenAt is EXIF DateTimeOriginal, zero when absent. It is the
	// camera's clock, so it is a hint, not proof.
	TakenAt    time.Time
	UploadedAt time.Time
	// DistanceM is the distance in metres from the photo's GPS position to
	// the case location given at upload, nil when either was unknown.
	DistanceM *float64
	// LocationMismatch is set when DistanceM exceeds Config.MismatchMeters.
	// False when the distance is unknown: a missing GPS tag is common
	// (privacy settings, indoor shots) and is not by itself suspicious.
	LocationMismatch bool
}

// Blob metadata keys. Lower case, because S3 lower-cases metadata keys and
// gocloud refuses keys that differ only in case.
const (
	mdTenant   = "tenant"
	mdCase     = "case"
	mdKind     = "kind"
	mdFileName = "filename"
	mdSHA256   = "sha256"
	mdSize     = "size"
	mdWidth    = "width"
	mdHeight   = "height"
	mdExifLon  = "exif-lon"
	mdExifLat  = "exif-lat"
	mdTakenAt  = "exif-time"
	mdUploaded = "uploaded-at"
	mdDistance = "distance-m"
	mdMismatch = "location-mismatch"
)

// Put checks an upload, stores it under a new key in the tenant's prefix
// and returns its description. Files are never overwritten: every Put gets
// a fresh random key.
func (s *Store) Put(ctx context.Context, in PutInput) (*Attachment, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	b, err := s.read(ctx, in.Reader)
	if err != nil {
		return nil, fmt.Errorf("evidence: put: read: %w", err)
	}
	if int64(len(b)) > s.cfg.MaxBytes {
		return nil, tooLarge(s.cfg.MaxBytes)
	}
	insp, err := s.inspect(in.Kind, b)
	if err != nil {
		return nil, err
	}

	sum := sha256.Sum256(b)
	now := s.cfg.Now().In(s.cfg.Location)
	// 128 random bits: unguessable, and collision-free without the
	// conditional write (If-None-Match) that not every S3-compatible
	// service implements.
	id := strings.ToLower(rand.Text())
	key := fmt.Sprintf("%s/%04d/%02d/%s.%s", in.TenantCode, now.Year(), int(now.Month()), id, extension(insp.contentType))

	md := map[string]string{
		mdTenant:   in.TenantCode,
		mdKind:     string(in.Kind),
		mdSHA256:   hex.EncodeToString(sum[:]),
		mdSize:     strconv.Itoa(len(b)),
		mdUploaded: now.Format(time.RFC3339Nano),
	}
	if in.CaseNumber != "" {
		md[mdCase] = in.CaseNumber
	}
	if name := cleanFileName(in.FileName); name != "" {
		md[mdFileName] = name
	}
	if insp.width > 0 {
		md[mdWidth] = strconv.Itoa(insp.width)
		md[mdHeight] = strconv.Itoa(insp.height)
	}
	if x := insp.exif; x.hasGPS {
		md[mdExifLon] = strconv.FormatFloat(x.lon, 'f', 7, 64) // 7 decimals ≈ 1 cm
		md[mdExifLat] = strconv.FormatFloat(x.lat, 'f', 7, 64)
		if in.CaseLon != nil {
			d := geo.Haversine(x.lon, x.lat, *in.CaseLon, *in.CaseLat)
			md[mdDistance] = strconv.FormatFloat(d, 'f', 1, 64)
			md[mdMismatch] = strconv.FormatBool(d > s.cfg.MismatchMeters)
		}
	}
	if !insp.exif.taken.IsZero() {
		md[mdTakenAt] = insp.exif.taken.Format(time.RFC3339)
	}

	if err := s.write(ctx, key, b, &blob.WriterOptions{ContentType: insp.contentType, Metadata: md}); err != nil {
		return nil, fmt.Errorf("evidence: put: %w", err)
	}
	// Built from the metadata just written, so Put and Stat agree exactly.
	a, _ := attachmentFrom(key, insp.contentType, int64(len(b)), md)
	return a, nil
}

// write stores b at key. It uses a Writer rather than Bucket.WriteAll
// because WriteAll hashes the bytes with MD5 and the Writer hashes them
// again to verify: two thirds of Put's CPU time for a photo, buying
// nothing the SDK's own request checksums, TLS and the recorded sha256 do
// not already give.
func (s *Store) write(ctx context.Context, key string, b []byte, opts *blob.WriterOptions) error {
	// Cancelling the writer's context before Close is gocloud's way to
	// abort a write, so a failed Write leaves no partial object.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(ctx, key, opts)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		cancel()
		_ = w.Close()
		return err
	}
	return w.Close()
}

// Stat returns the description of the tenant's attachment at key. A key
// outside the tenant's prefix gets the same ErrNotFound as a missing key.
func (s *Store) Stat(ctx context.Context, tenantCode, key string) (*Attachment, error) {
	if !ownKey(tenantCode, key) {
		return nil, notFound()
	}
	attrs, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return nil, storageErr("stat", err)
	}
	a, ok := attachmentFrom(key, attrs.ContentType, attrs.Size, attrs.Metadata)
	// The metadata check backs up the prefix check: a blob copied into the
	// prefix by hand, or written by something else, is not served.
	if !ok || a.TenantCode != tenantCode {
		return nil, notFound()
	}
	return a, nil
}

// Get opens the tenant's attachment at key for reading; the caller closes
// the reader. Serve it with the returned ContentType and
// "X-Content-Type-Options: nosniff", and PDFs as a download, so that a
// browser never reinterprets the bytes.
func (s *Store) Get(ctx context.Context, tenantCode, key string) (io.ReadCloser, *Attachment, error) {
	a, err := s.Stat(ctx, tenantCode, key)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, nil, storageErr("get", err)
	}
	return r, a, nil
}

// Delete removes the tenant's attachment at key, with the same tenant
// check as Stat.
func (s *Store) Delete(ctx context.Context, tenantCode, key string) error {
	if _, err := s.Stat(ctx, tenantCode, key); err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, key); err != nil {
		return storageErr("delete", err)
	}
	return nil
}

func storageErr(op string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return notFound()
	}
	return fmt.Errorf("evidence: %s: %w", op, err)
}

// attachmentFrom rebuilds an Attachment from blob metadata. It reports
// false for a blob this package did not write.
func attachmentFrom(key, contentType string, size int64, md map[string]string) (*Attachment, bool) {
	a := &Attachment{
		Key:         key,
		TenantCode:  md[mdTenant],
		CaseNumber:  md[mdCase],
		Kind:        Kind(md[mdKind]),
		FileName:    md[mdFileName],
		ContentType: contentType,
		Size:        size,
		SHA256:      md[mdSHA256],
	}
	if a.TenantCode == "" || !a.Kind.valid() {
		return nil, false
	}
	a.Width, _ = strconv.Atoi(md[mdWidth])
	a.Height, _ = strconv.Atoi(md[mdHeight])
	a.ExifLon = parseFloat(md[mdExifLon])
	a.ExifLat = parseFloat(md[mdExifLat])
	if a.ExifLon == nil || a.ExifLat == nil {
		a.ExifLon, a.ExifLat = nil, nil
	}
	a.DistanceM = parseFloat(md[mdDistance])
	a.LocationMismatch = md[mdMismatch] == "true"
	a.TakenAt, _ = time.Parse(time.RFC3339, md[mdTakenAt])
	a.UploadedAt, _ = time.Parse(time.RFC3339Nano, md[mdUploaded])
	return a, true
}

func parseFloat(s string) *float64 {
	if s == "" {
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func (in *PutInput) validate() error {
	if !validTenantCode(in.TenantCode) {
		return invalid("tenant_code", "租户编码无效", "invalid tenant code")
	}
	if !in.Kind.valid() {
		return invalid("kind", "附件类别必须是 before、after 或 document", "kind must be before, after or document")
	}
	if len(in.CaseNumber) > 32 || !printable(in.CaseNumber) {
		return invalid("case_number", "案件编号无效", "invalid case number")
	}
	if (in.CaseLon == nil) != (in.CaseLat == nil) {
		return invalid("case_location", "案件位置须同时提供经度和纬度", "give both the longitude and the latitude of the case, or neither")
	}
	if in.CaseLon != nil && !(math.Abs(*in.CaseLon) <= 180 && math.Abs(*in.CaseLat) <= 90) {
		return invalid("case_location", "案件位置超出经纬度范围", "the case location is out of range")
	}
	if in.Reader == nil {
		return invalid("file", "缺少文件内容", "no file content")
	}
	return nil
}

// validTenantCode mirrors the tenant schema: 1 to 12 of [0-9A-Z]. Keys are
// built from the code, so nothing else (no "/", no "..") may get in.
func validTenantCode(s string) bool {
	if len(s) == 0 || len(s) > 12 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}

// ownKey reports whether key has exactly the shape Put gives the tenant's
// keys. Anything else — another tenant's prefix, "..", extra segments — is
// refused before the bucket is asked, so no path trick reaches a driver.
func ownKey(tenantCode, key string) bool {
	if !validTenantCode(tenantCode) {
		return false
	}
	rest, ok := strings.CutPrefix(key, tenantCode+"/")
	if !ok {
		return false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || !digits(parts[0], 4) || !digits(parts[1], 2) || parts[1] < "01" || parts[1] > "12" {
		return false
	}
	id, ext, ok := strings.Cut(parts[2], ".")
	if !ok || len(id) != 26 || !slices.Contains([]string{"jpg", "png", "webp", "gif", "pdf"}, ext) {
		return false
	}
	for _, c := range []byte(id) {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// cleanFileName keeps the display part of a client file name: browsers
// and old Windows clients send full paths, and control characters or an
// overlong name have no place in metadata (S3 allows 2 KiB in all).
func cleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, name)
	const maxLen = 200
	if len(name) > maxLen {
		name = name[:maxLen]
		for !utf8.ValidString(name) { // cut mid-rune: drop the partial rune
			name = name[:len(name)-1]
		}
	}
	return strings.TrimSpace(name)
}

// read reads at most MaxBytes+1 bytes. A reader that knows its length
// (bytes.Reader, strings.Reader, bytes.Buffer) gets a buffer of that size
// up front instead of repeated doubling; the length only sizes the buffer,
// the limit is enforced on what is actually read.
func (s *Store) read(ctx context.Context, r io.Reader) ([]byte, error) {
	limit := s.cfg.MaxBytes + 1
	var buf bytes.Buffer
	if l, ok := r.(interface{ Len() int }); ok {
		buf.Grow(int(min(int64(l.Len())+bytes.MinRead, limit)))
	}
	_, err := buf.ReadFrom(io.LimitReader(ctxReader{ctx, r}, limit))
	return buf.Bytes(), err
}

// ctxReader stops a slow upload when its context ends, which the reader
// itself (a request body, a file) may not do.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
