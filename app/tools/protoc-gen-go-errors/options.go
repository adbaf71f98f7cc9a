package main

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Field numbers of the options the plugin reads. They are read from the
// wire form of the options message, so it does not matter whether the
// extension was known to this binary (then it was parsed into a known field)
// or not (then it sits in the unknown fields).
const (
	// fieldDefaultCode is (errors.default_code) on google.protobuf.EnumOptions.
	fieldDefaultCode protoreflect.FieldNumber = 1108
	// fieldCode is (errors.code) on google.protobuf.EnumValueOptions.
	fieldCode protoreflect.FieldNumber = 1109
	// fieldMsgZh is (cityops.errors.v1.msg_zh) on google.protobuf.EnumValueOptions.
	fieldMsgZh protoreflect.FieldNumber = 52001
	// fieldMsgEn is (cityops.errors.v1.msg_en) on google.protobuf.EnumValueOptions.
	fieldMsgEn protoreflect.FieldNumber = 52002
)

// rawOption returns the last occurrence of field num in opts, which for a
// scalar is the value that counts.
func rawOption(opts proto.Message, num protoreflect.FieldNumber) (protowire.Type, []byte, bool, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(opts)
	if err != nil {
		return 0, nil, false, err
	}
	var (
		typ   protowire.Type
		value []byte
		found bool
	)
	for len(b) > 0 {
		n, t, l := protowire.ConsumeTag(b)
		if l < 0 {
			return 0, nil, false, protowire.ParseError(l)
		}
		m := protowire.ConsumeFieldValue(n, t, b[l:])
		if m < 0 {
			return 0, nil, false, protowire.ParseError(m)
		}
		if n == num {
			typ, value, found = t, b[l:l+m], true
		}
		b = b[l+m:]
	}
	return typ, value, found, nil
}

// optionInt32 returns the int32 option num of opts.
func optionInt32(opts proto.Message, num protoreflect.FieldNumber) (int32, bool, error) {
	typ, b, ok, err := rawOption(opts, num)
	if err != nil || !ok {
		return 0, false, err
	}
	if typ != protowire.VarintType {
		return 0, false, fmt.Errorf("option %d: want a varint, got wire type %d", num, typ)
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, false, protowire.ParseError(n)
	}
	return int32(v), true, nil
}

// optionString returns the string option num of opts.
func optionString(opts proto.Message, num protoreflect.FieldNumber) (string, bool, error) {
	typ, b, ok, err := rawOption(opts, num)
	if err != nil || !ok {
		return "", false, err
	}
	if typ != protowire.BytesType {
		return "", false, fmt.Errorf("option %d: want a string, got wire type %d", num, typ)
	}
	v, n := protowire.ConsumeBytes(b)
	if n < 0 {
		return "", false, protowire.ParseError(n)
	}
	return string(v), true, nil
}
