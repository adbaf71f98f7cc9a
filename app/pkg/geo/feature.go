package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"iter"
)

// Feature is a GeoJSON Feature. Properties stay raw JSON so that streaming a
// million component features does not build a million maps; call
// PropertiesMap when a map is wanted.
type Feature struct {
	// ID is nil, a string or a json.Number (RFC 7946 allows either); a
	// json.Number keeps 16-digit component codes exact.
	ID any
	// Geometry is nil for a feature whose geometry is null.
	Geometry *Geometry
	// Properties is the raw "properties" object, or nil when it is absent
	// or null.
	Properties json.RawMessage
}

// PropertiesMap decodes Properties, with numbers as json.Number so that
// codes and identifiers survive unchanged. It returns nil for no properties.
func (f Feature) PropertiesMap() (map[string]any, error) {
	if len(f.Properties) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(f.Properties))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("geo: feature properties: %w", err)
	}
	return m, nil
}

// MarshalJSON writes the feature as RFC 7946 GeoJSON.
func (f Feature) MarshalJSON() ([]byte, error) {
	b := []byte(`{"type":"Feature"`)
	if f.ID != nil {
		id, err := json.Marshal(f.ID)
		if err != nil {
			return nil, fmt.Errorf("geo: feature id: %w", err)
		}
		b = append(b, `,"id":`...)
		b = append(b, id...)
	}
	b = append(b, `,"geometry":`...)
	if f.Geometry == nil {
		b = append(b, "null"...)
	} else {
		var err error
		if b, err = f.Geometry.appendJSON(b, 0); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"properties":`...)
	if len(f.Properties) == 0 {
		b = append(b, "null"...)
	} else {
		var buf bytes.Buffer
		if err := json.Compact(&buf, f.Properties); err != nil {
			return nil, fmt.Errorf("geo: feature properties: %w", err)
		}
		b = append(b, buf.Bytes()...)
	}
	return append(b, '}'), nil
}

// ParseFeature decodes one GeoJSON Feature object.
func ParseFeature(data []byte) (Feature, error) {
	var raw struct {
		Type       string          `json:"type"`
		ID         json.RawMessage `json:"id"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Feature{}, jsonProblem("", err)
	}
	if raw.Type != "Feature" {
		return Feature{}, Problems{problem("type", CodeWrongType,
			fmt.Sprintf("要素的 type 应为 \"Feature\"，实际为 %q", raw.Type),
			fmt.Sprintf(`a feature's type must be "Feature", got %q`, raw.Type))}
	}
	var f Feature
	if id := bytes.TrimSpace(raw.ID); len(id) > 0 && string(id) != "null" {
		switch id[0] {
		case '"':
			var s string
			if err := json.Unmarshal(id, &s); err != nil {
				return Feature{}, jsonProblem("id", err)
			}
			f.ID = s
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			f.ID = json.Number(id)
		default:
			return Feature{}, Problems{problem("id", CodeWrongType,
				"要素 id 必须是字符串或数字", "a feature id must be a string or a number")}
		}
	}
	if g := bytes.TrimSpace(raw.Geometry); len(g) > 0 && string(g) != "null" {
		geom, err := ParseGeometry(g)
		if err != nil {
			return Feature{}, prefixErr("geometry", err)
		}
		f.Geometry = &geom
	}
	if p := bytes.TrimSpace(raw.Properties); len(p) > 0 && string(p) != "null" {
		if p[0] != '{' {
			return Feature{}, Problems{problem("properties", CodeWrongType,
				"properties 必须是对象或 null", "properties must be an object or null")}
		}
		f.Properties = p
	}
	return f, nil
}

// FeatureCollection is a GeoJSON FeatureCollection held in memory, for
// writing and for small inputs. Large files should be read with
// ParseFeatureCollection, which never holds more than one feature.
type FeatureCollection struct {
	Features []Feature
}

// MarshalJSON writes the collection as RFC 7946 GeoJSON.
func (fc FeatureCollection) MarshalJSON() ([]byte, error) {
	b := []byte(`{"type":"FeatureCollection","features":[`)
	for i, f := range fc.Features {
		if i > 0 {
			b = append(b, ',')
		}
		fb, err := f.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("geo: features[%d]: %w", i, err)
		}
		b = append(b, fb...)
	}
	return append(b, "]}"...), nil
}

// UnmarshalJSON implements json.Unmarshaler with ParseFeatureCollection.
func (fc *FeatureCollection) UnmarshalJSON(data []byte) error {
	var out []Feature
	for f, err := range ParseFeatureCollection(bytes.NewReader(data)) {
		if err != nil {
			return err
		}
		out = append(out, f)
	}
	fc.Features = out
	return nil
}

// ParseFeatureCollection streams the features of a GeoJSON
// FeatureCollection from r, one at a time, so that a file of 32,000 grid
// polygons or a million component points is never held in memory whole: a
// json.Decoder walks the top-level object by tokens and decodes each element
// of "features" on its own. Members other than "type" and "features" (bbox,
// the legacy crs, foreign members) are skipped.
//
// The sequence yields (feature, nil) for each feature and, on the first
// error, (Feature{}, err) once and then stops. Errors are Problems whose
// paths start at the collection ("features[12].geometry.coordinates[0]").
// A missing or wrong top-level "type" is only known once the object has been
// read, so it is reported after the features that preceded it.
func ParseFeatureCollection(r io.Reader) iter.Seq2[Feature, error] {
	return func(yield func(Feature, error) bool) {
		fail := func(err error) { yield(Feature{}, err) }
		dec := json.NewDecoder(r)
		if err := expectDelim(dec, '{'); err != nil {
			fail(jsonProblem("", err))
			return
		}
		sawType, sawFeatures := false, false
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				fail(jsonProblem("", err))
				return
			}
			key, _ := tok.(string)
			switch key {
			case "type":
				var t string
				if err := dec.Decode(&t); err != nil {
					fail(jsonProblem("type", err))
					return
				}
				if t != "FeatureCollection" {
					fail(Problems{problem("type", CodeWrongType,
						fmt.Sprintf("type 应为 \"FeatureCollection\"，实际为 %q", t),
						fmt.Sprintf(`type must be "FeatureCollection", got %q`, t))})
					return
				}
				sawType = true
			case "features":
				sawFeatures = true
				if err := expectDelim(dec, '['); err != nil {
					fail(jsonProblem("features", err))
					return
				}
				for i := 0; dec.More(); i++ {
					path := fmt.Sprintf("features[%d]", i)
					var raw json.RawMessage
					if err := dec.Decode(&raw); err != nil {
						fail(jsonProblem(path, err))
						return
					}
					f, err := ParseFeature(raw)
					if err != nil {
						fail(prefixErr(path, err))
						return
					}
					if !yield(f, nil) {
						return
					}
				}
				if err := expectDelim(dec, ']'); err != nil {
					fail(jsonProblem("features", err))
					return
				}
			default:
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					fail(jsonProblem(key, err))
					return
				}
			}
		}
		if err := expectDelim(dec, '}'); err != nil {
			fail(jsonProblem("", err))
			return
		}
		if !sawType || !sawFeatures {
			fail(Problems{problem("", CodeWrongType,
				"不是 FeatureCollection：缺少 type 或 features 成员",
				"not a FeatureCollection: the type or features member is missing")})
		}
	}
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, got %v", want, tok)
	}
	return nil
}
