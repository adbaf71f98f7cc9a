package evidence

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/image/webp"
)

// inspection is what Put learns from the bytes alone.
type inspection struct {
	contentType   string
	width, height int // 0 for PDF
	exif          exifData
}

// inspect sniffs, checks and measures an upload of the given kind.
func (s *Store) inspect(kind Kind, b []byte) (inspection, error) {
	var in inspection
	if len(b) == 0 {
		return in, corrupt("文件为空", "the file is empty")
	}
	// The type comes from the bytes only; the parameters DetectContentType
	// may add ("; charset=utf-8") do not matter for any type we allow.
	ct, _, _ := strings.Cut(http.DetectContentType(b), ";")
	in.contentType = ct
	allowed := s.cfg.allowed(kind)
	if !slices.Contains(allowed, ct) {
		return in, typeNotAllowed(kind, ct, allowed)
	}
	if ct == TypePDF {
		// The PDF trailer ends with %%EOF; readers look for it in the last
		// 1024 bytes, so a file without it there is truncated.
		if !bytes.Contains(b[max(0, len(b)-1024):], []byte("%%EOF")) {
			return in, corrupt("PDF 文件不完整（缺少 %%EOF 结尾），请重新上传", "the PDF is incomplete (no %%EOF trailer); upload it again")
		}
		return in, nil
	}
	cfg, err := decodeConfig(ct, b)
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return in, corrupt("图片文件已损坏或格式不正确", "the image is damaged or not in the format it claims")
	}
	in.width, in.height = cfg.Width, cfg.Height
	c := &s.cfg
	if in.width > c.MaxWidth || in.height > c.MaxHeight {
		return in, tooBig(in.width, in.height, c.MaxWidth, c.MaxHeight)
	}
	if in.width < c.MinWidth || in.height < c.MinHeight {
		return in, tooSmall(in.width, in.height, c.MinWidth, c.MinHeight)
	}
	if ct == TypeJPEG {
		in.exif = readJPEGEXIF(b, c.Location)
	}
	return in, nil
}

// decodeConfig reads an image header with the decoder of the sniffed type,
// called directly rather than through image.DecodeConfig's registry, so a
// file is measured by the format it was admitted as and nothing else.
func decodeConfig(contentType string, b []byte) (image.Config, error) {
	r := bytes.NewReader(b)
	switch contentType {
	case TypeJPEG:
		return jpeg.DecodeConfig(r)
	case TypePNG:
		return png.DecodeConfig(r)
	case TypeGIF:
		return gif.DecodeConfig(r)
	case TypeWebP:
		return webp.DecodeConfig(r)
	}
	return image.Config{}, image.ErrFormat
}
