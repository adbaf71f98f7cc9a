package evidence

import (
	"errors"
	"fmt"
	"strings"
)

// The sentinels below classify every error a user can act on; test with
// errors.Is. The errors Put, Stat, Get and Delete return are *Error values
// that wrap one of them and add the field and a specific message.
var (
	// ErrTooLarge means the upload exceeds Config.MaxBytes.
	ErrTooLarge = errors.New("evidence: attachment too large")
	// ErrUnsupportedType means the sniffed content type is not allowed for
	// the attachment's kind.
	ErrUnsupportedType = errors.New("evidence: attachment type not allowed")
	// ErrTooSmall means an image is below Config.MinWidth × MinHeight.
	ErrTooSmall = errors.New("evidence: image too small")
	// ErrTooBig means an image exceeds Config.MaxWidth × MaxHeight.
	ErrTooBig = errors.New("evidence: image too big")
	// ErrNotFound means the key does not exist or belongs to another tenant;
	// the two are deliberately indistinguishable.
	ErrNotFound = errors.New("evidence: attachment not found")
	// ErrCorrupt means the bytes are empty, truncated or not the format they
	// claim to be.
	ErrCorrupt = errors.New("evidence: attachment corrupt")
	// ErrInvalid means an argument other than the file itself is wrong (an
	// unknown kind, a malformed tenant code, a half-given case location).
	ErrInvalid = errors.New("evidence: invalid argument")
)

// Reason codes returned by Describe, for the platform's error catalogue.
const (
	ReasonTooLarge        = "ATTACHMENT_TOO_LARGE"
	ReasonTypeNotAllowed  = "ATTACHMENT_TYPE_NOT_ALLOWED"
	ReasonDimensions      = "ATTACHMENT_DIMENSIONS"
	ReasonNotFound        = "ATTACHMENT_NOT_FOUND"
	ReasonCorrupt         = "ATTACHMENT_CORRUPT"
	ReasonInvalidArgument = "ATTACHMENT_INVALID_ARGUMENT"
)

// Error is an error a user can act on: which input was wrong and what to
// do about it, in both languages the platform answers in.
type Error struct {
	// Err is the sentinel that classifies the error.
	Err error
	// Field names the input at fault as the API calls it ("file", "kind",
	// "tenant_code", "case_number", "case_location", "key").
	Field string
	// ZH and EN are the human messages.
	ZH, EN string
}

// Error returns the sentinel's text with the English detail, for logs.
func (e *Error) Error() string { return e.Err.Error() + ": " + e.EN }

// Unwrap returns the sentinel so that errors.Is works.
func (e *Error) Unwrap() error { return e.Err }

// Describe returns the reason code and the zh-CN and en messages for an
// error from this package, for the platform to map to its kratos errors.
// For any other error (a storage failure, a cancelled context) the reason is
// empty: the caller should treat it as an internal error and not show its
// text to users.
func Describe(err error) (reason, zh, en string) {
	var e *Error
	if errors.As(err, &e) {
		reason, _, _ = describeSentinel(e.Err)
		return reason, e.ZH, e.EN
	}
	return describeSentinel(err)
}

// describeSentinel gives the generic messages, used when a bare sentinel
// reaches Describe (for example one a test or a wrapper returned).
func describeSentinel(err error) (reason, zh, en string) {
	switch {
	case errors.Is(err, ErrTooLarge):
		return ReasonTooLarge, "附件超过大小上限", "the attachment is too large"
	case errors.Is(err, ErrUnsupportedType):
		return ReasonTypeNotAllowed, "不支持该文件类型", "this file type is not allowed"
	case errors.Is(err, ErrTooSmall):
		return ReasonDimensions, "图片尺寸过小", "the image is too small"
	case errors.Is(err, ErrTooBig):
		return ReasonDimensions, "图片尺寸过大", "the image dimensions are too large"
	case errors.Is(err, ErrNotFound):
		return ReasonNotFound, "附件不存在", "attachment not found"
	case errors.Is(err, ErrCorrupt):
		return ReasonCorrupt, "文件已损坏或无法识别", "the file is damaged or cannot be read"
	case errors.Is(err, ErrInvalid):
		return ReasonInvalidArgument, "参数无效", "invalid argument"
	}
	return "", "", ""
}

// notFound is the one error every refused or missing key gets. It names no
// key and no tenant, so a foreign key and a missing one read the same.
func notFound() error {
	return &Error{Err: ErrNotFound, Field: "key", ZH: "附件不存在", EN: "attachment not found"}
}

func invalid(field, zh, en string) error {
	return &Error{Err: ErrInvalid, Field: field, ZH: zh, EN: en}
}

func corrupt(zh, en string) error {
	return &Error{Err: ErrCorrupt, Field: "file", ZH: zh, EN: en}
}

func tooLarge(limit int64) error {
	s := formatBytes(limit)
	return &Error{Err: ErrTooLarge, Field: "file",
		ZH: fmt.Sprintf("附件超过 %s 的大小上限，请压缩后重新上传", s),
		EN: fmt.Sprintf("the attachment exceeds the %s limit; compress it and upload again", s)}
}

func typeNotAllowed(kind Kind, got string, allowed []string) error {
	return &Error{Err: ErrUnsupportedType, Field: "file",
		ZH: fmt.Sprintf("%s不支持 %s 类型的文件，允许的类型：%s", kind.zh(), got, strings.Join(allowed, "、")),
		EN: fmt.Sprintf("a %s cannot be of type %s; allowed types: %s", kind.en(), got, strings.Join(allowed, ", "))}
}

func tooSmall(w, h, minW, minH int) error {
	return &Error{Err: ErrTooSmall, Field: "file",
		ZH: fmt.Sprintf("图片尺寸 %d×%d 过小，至少需要 %d×%d 像素，无法作为取证照片", w, h, minW, minH),
		EN: fmt.Sprintf("the image is %d×%d pixels; at least %d×%d are needed for evidence", w, h, minW, minH)}
}

func tooBig(w, h, maxW, maxH int) error {
	return &Error{Err: ErrTooBig, Field: "file",
		ZH: fmt.Sprintf("图片尺寸 %d×%d 超过 %d×%d 像素的上限", w, h, maxW, maxH),
		EN: fmt.Sprintf("the image is %d×%d pixels; the limit is %d×%d", w, h, maxW, maxH)}
}

// formatBytes prints a limit the way users think of it ("10 MiB").
func formatBytes(n int64) string {
	const mib = 1 << 20
	const kib = 1 << 10
	switch {
	case n >= mib && n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	case n >= mib:
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	case n >= kib:
		return fmt.Sprintf("%d KiB", n/kib)
	}
	return fmt.Sprintf("%d B", n)
}
