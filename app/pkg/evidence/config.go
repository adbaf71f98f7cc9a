package evidence

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Kind says what an attachment is evidence of.
type Kind string

// Kinds of attachment.
const (
	// KindBefore is a photo of the problem as reported or verified (处置前照片).
	KindBefore Kind = "before"
	// KindAfter is a photo of the result of the disposal (处置后照片).
	KindAfter Kind = "after"
	// KindDocument is a supporting document: a notice, a permit, a scan.
	KindDocument Kind = "document"
)

func (k Kind) valid() bool { return k == KindBefore || k == KindAfter || k == KindDocument }

func (k Kind) zh() string {
	switch k {
	case KindBefore:
		return "处置前照片"
	case KindAfter:
		return "处置后照片"
	}
	return "附件文档"
}

func (k Kind) en() string {
	switch k {
	case KindBefore:
		return "before photo"
	case KindAfter:
		return "after photo"
	}
	return "document"
}

// Content types the package can verify. Anything else cannot be allowed,
// because Put would store bytes it has not checked.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeWebP = "image/webp"
	TypeGIF  = "image/gif"
	TypePDF  = "application/pdf"
)

// extensions maps each verifiable type to the extension its keys get.
func extension(contentType string) string {
	switch contentType {
	case TypeJPEG:
		return "jpg"
	case TypePNG:
		return "png"
	case TypeWebP:
		return "webp"
	case TypeGIF:
		return "gif"
	case TypePDF:
		return "pdf"
	}
	return ""
}

// Config tunes the checks Put makes. The zero value is usable: every zero
// field takes the default documented on it.
type Config struct {
	// MaxBytes is the largest upload accepted. Default 10 MiB, which a
	// 50-megapixel phone JPEG fits and which keeps the in-memory buffer per
	// upload small.
	MaxBytes int64

	// MaxWidth and MaxHeight bound an image's declared size. Default
	// 8192×8192: above every phone camera's normal mode, and it refuses
	// decompression bombs (a tiny PNG declaring 100000×100000 pixels) before
	// anything decodes them.
	MaxWidth, MaxHeight int

	// MinWidth and MinHeight are the smallest useful evidence photo, compared
	// against the stored pixel size (EXIF orientation is not applied, so keep
	// them equal). Default 200×200: a thumbnail shows nothing an inspector
	// could check.
	MinWidth, MinHeight int

	// PhotoTypes are the content types allowed for before and after photos.
	// Default image/jpeg, image/png, image/webp.
	PhotoTypes []string

	// DocumentTypes are the content types allowed for documents. Default
	// application/pdf plus the default photo types.
	DocumentTypes []string

	// MismatchMeters is how far a photo's EXIF position may be from the case
	// location before the attachment is flagged. Default 200 m: phone GPS
	// is good to tens of metres outdoors, so more than that means the photo
	// was taken somewhere else (or reused from another case).
	MismatchMeters float64

	// Location is the time zone for EXIF times that carry no offset and for
	// the year/month in keys. Default China Standard Time (UTC+8), fixed so
	// that no time zone database is needed.
	Location *time.Location

	// Now returns the current time; default time.Now. Tests set it to get
	// stable keys.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.MaxBytes == 0 {
		c.MaxBytes = 10 << 20
	}
	if c.MaxWidth == 0 {
		c.MaxWidth = 8192
	}
	if c.MaxHeight == 0 {
		c.MaxHeight = 8192
	}
	if c.MinWidth == 0 {
		c.MinWidth = 200
	}
	if c.MinHeight == 0 {
		c.MinHeight = 200
	}
	if c.PhotoTypes == nil {
		c.PhotoTypes = []string{TypeJPEG, TypePNG, TypeWebP}
	}
	if c.DocumentTypes == nil {
		c.DocumentTypes = []string{TypePDF, TypeJPEG, TypePNG, TypeWebP}
	}
	if c.MismatchMeters == 0 {
		c.MismatchMeters = 200
	}
	if c.Location == nil {
		c.Location = time.FixedZone("CST", 8*60*60)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports a configuration Put could not honour. Open applies the
// defaults first, so zero fields are fine there.
func (c *Config) Validate() error {
	var errs []error
	// Put holds a whole upload in memory, so the limit must stay small.
	if c.MaxBytes <= 0 || c.MaxBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("MaxBytes must be between 1 B and 1 GiB, got %d", c.MaxBytes))
	}
	if c.MinWidth <= 0 || c.MinHeight <= 0 || c.MaxWidth < c.MinWidth || c.MaxHeight < c.MinHeight {
		errs = append(errs, fmt.Errorf("need 0 < MinWidth×MinHeight ≤ MaxWidth×MaxHeight, got %d×%d and %d×%d",
			c.MinWidth, c.MinHeight, c.MaxWidth, c.MaxHeight))
	}
	if !(c.MismatchMeters > 0) {
		errs = append(errs, fmt.Errorf("MismatchMeters must be positive, got %v", c.MismatchMeters))
	}
	for _, f := range []struct {
		name  string
		types []string
	}{{"PhotoTypes", c.PhotoTypes}, {"DocumentTypes", c.DocumentTypes}} {
		if len(f.types) == 0 {
			errs = append(errs, fmt.Errorf("%s is empty", f.name))
		}
		for _, t := range f.types {
			if extension(t) == "" {
				errs = append(errs, fmt.Errorf("%s: %q cannot be verified", f.name, t))
			}
		}
	}
	if slices.Contains(c.PhotoTypes, TypePDF) {
		errs = append(errs, errors.New("PhotoTypes: a PDF is not a photo"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("evidence: config: %w", errors.Join(errs...))
	}
	return nil
}

func (c *Config) allowed(k Kind) []string {
	if k == KindDocument {
		return c.DocumentTypes
	}
	return c.PhotoTypes
}
