// Package evidence stores the photos and files attached to city-management
// cases (案件附件): the photos taken before and after the problem was dealt
// with (处置前/处置后照片) and supporting documents. It sits on
// gocloud.dev/blob so that development runs on a local directory and
// production on any S3-compatible object store (MinIO, Aliyun OSS, …)
// without code changes.
//
// # What Put checks, and why
//
// Every upload is read fully into memory (at most Config.MaxBytes+1 bytes, so
// an oversized upload costs one buffer, never more), because the checks and
// the sha256 need all of it and the objects are small. The content type is
// sniffed from the bytes with net/http.DetectContentType and the client's
// declared type and file extension are ignored: a file that sniffs as HTML or
// SVG could run script in an operator's browser when it is served back.
//
// Allowed types (the defaults; Config can narrow or widen them within the
// set the package can verify):
//
//   - before/after photos: image/jpeg, image/png, image/webp. JPEG is what
//     cameras and the WeChat mini-program deliver, PNG covers screenshots,
//     WebP what web clients compress to.
//   - documents: application/pdf and the same image types (a scan sent as a
//     photo is still a document).
//   - image/gif is supported but off by default: a 256-colour palette loses
//     the detail evidence needs and animation makes "the" picture ambiguous.
//   - HEIC is not recognised by the sniffer; clients convert to JPEG (WeChat's
//     chooseMedia already does).
//
// Images are checked by their header (image.DecodeConfig and friends), not
// decoded in full: a decompression bomb is refused by its declared size
// before any pixel memory is allocated, and a full decode of every upload
// would cost tens of milliseconds and up to a hundred megabytes each for no
// gain in what is stored (the bytes are kept exactly as uploaded and the
// sha256 proves they are unchanged). PDFs must start with %PDF- and carry
// %%EOF near the end, which catches the common truncated upload.
//
// # EXIF
//
// For JPEG photos the package reads the EXIF block (APP1) with a small
// reader of its own: GPS latitude/longitude and DateTimeOriginal (with
// OffsetTimeOriginal when the camera wrote it; otherwise the time is read in
// Config.Location, China Standard Time by default). The reader accepts both
// TIFF byte orders, is bounded in every loop and never panics; a malformed
// EXIF block makes the photo lose its EXIF data, not the upload fail, because
// many apps write broken EXIF and the photo itself is still evidence.
//
// EXIF GPS is WGS84, as is every coordinate the platform stores (see package
// geo); the case location passed to Put must be WGS84 too. A GCJ-02 location
// from a Chinese web map is off by several hundred metres and would be
// flagged as a mismatch.
//
// # Storage layout and tenant isolation
//
// Keys are <tenant>/<yyyy>/<mm>/<random id>.<ext>, the month being the
// upload month in Config.Location, so that one tenant's files are one prefix
// (for lifecycle rules, export and deletion of a tenant) and the random id
// makes keys unguessable. Everything known about an attachment is stored as
// blob metadata next to the bytes, so no database table is needed: the case
// record keeps the keys, Stat recovers the rest.
//
// Stat, Get and Delete take the caller's tenant and refuse a key outside
// that tenant's prefix, or a blob whose metadata names another tenant, with
// the same ErrNotFound a missing key gets, so that a caller cannot learn
// whether another tenant's key exists.
//
// # Errors
//
// Errors a user can act on are *Error values wrapping one of the sentinels
// (ErrTooLarge, ErrUnsupportedType, ErrTooSmall, ErrTooBig, ErrNotFound,
// ErrCorrupt, ErrInvalid) and carry the offending field and a message in
// zh-CN and en; Describe returns the reason code for the API layer.
// Everything else (the object store failing) is returned wrapped, and
// Describe gives it no reason.
//
// A Store is safe for concurrent use and keeps no global state.
package evidence
