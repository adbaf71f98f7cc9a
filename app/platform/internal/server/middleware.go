package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	kerrors "github.com/go-kratos/kratos/v2/errors"
	"github.com/go-kratos/kratos/v2/log"
	"github.com/go-kratos/kratos/v2/middleware"
	"github.com/go-kratos/kratos/v2/transport"

	errorsv1 "github.com/cityops/cityops/api/errors/v1"
	"github.com/cityops/cityops/app/pkg/apierr"
)

// HeaderRequestID carries the request id in HTTP headers and gRPC metadata.
const HeaderRequestID = "X-Request-Id"

type requestIDKey struct{}

// RequestIDFromContext returns the id of the request being served.
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// acceptableRequestID keeps a caller's id only when it is short and plain,
// so ids can be logged and echoed without escaping.
func acceptableRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// requestID takes the caller's X-Request-Id or makes one, echoes it in the
// reply and puts it in the context for logs and errors.
func requestID() middleware.Middleware {
	return func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			id := ""
			if tr, ok := transport.FromServerContext(ctx); ok {
				id = tr.RequestHeader().Get(HeaderRequestID)
				if !acceptableRequestID(id) {
					id = newRequestID()
				}
				tr.ReplyHeader().Set(HeaderRequestID, id)
			} else {
				id = newRequestID()
			}
			return next(context.WithValue(ctx, requestIDKey{}, id), req)
		}
	}
}

// requestLang is the language the caller asked for.
func requestLang(ctx context.Context) string {
	if tr, ok := transport.FromServerContext(ctx); ok {
		return apierr.Lang(tr.RequestHeader().Get("Accept-Language"))
	}
	return apierr.ZH
}

// localize turns every error into a kratos error with a stable reason and a
// message in the caller's language; unexpected errors are logged here in
// full and answered as INTERNAL without their details.
func localize(l *apierr.Localizer, logger log.Logger) middleware.Middleware {
	h := log.NewHelper(logger)
	return func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			reply, err := next(ctx, req)
			if err == nil {
				return reply, nil
			}
			out := l.Localize(err, requestLang(ctx), RequestIDFromContext(ctx))
			if out.Reason == errorsv1.ErrorReason_INTERNAL.String() {
				h.WithContext(ctx).Errorw("msg", "internal error", "request_id", RequestIDFromContext(ctx), "error", err)
			}
			return nil, out
		}
	}
}

// validator is what protoc-gen-validate generates on every request message.
type validator interface {
	ValidateAll() error
}

type fieldError interface {
	Field() string
	Reason() string
}

// validate checks the request against the proto validation rules and
// answers INVALID_ARGUMENT naming the first offending field.
func validate() middleware.Middleware {
	return func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			if v, ok := req.(validator); ok {
				if err := v.ValidateAll(); err != nil {
					return nil, invalidFromValidation(err)
				}
			}
			return next(ctx, req)
		}
	}
}

func invalidFromValidation(err error) error {
	var first error = err
	if multi, ok := err.(interface{ AllErrors() []error }); ok && len(multi.AllErrors()) > 0 {
		first = multi.AllErrors()[0]
	}
	field, reason := "request", first.Error()
	var fe fieldError
	if errors.As(first, &fe) {
		field, reason = snake(fe.Field()), fe.Reason()
		// Nested messages report the inner field through their cause.
		if c, ok := first.(interface{ Cause() error }); ok && c.Cause() != nil {
			var inner fieldError
			if errors.As(c.Cause(), &inner) {
				field = field + "." + snake(inner.Field())
				reason = inner.Reason()
			}
		}
	}
	return errorsv1.ErrorInvalidArgument("%s: %s", field, reason).WithMetadata(map[string]string{
		"field": field, "detail": reason, "detail_en": reason, "detail_zh": validationReasonZH(reason),
	})
}

// snake turns the Go field name protoc-gen-validate reports (ParentCode)
// into the proto field name callers send (parent_code).
func snake(goName string) string {
	var b strings.Builder
	for i, c := range goName {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteRune(c)
	}
	return b.String()
}

// validationReasonZH renders protoc-gen-validate's English reasons in
// Chinese; an unknown reason stays in English rather than being guessed.
func validationReasonZH(reason string) string {
	switch {
	case strings.HasPrefix(reason, "value does not match regex pattern"):
		return "格式不正确（" + strings.TrimPrefix(reason, "value does not match regex pattern ") + "）"
	case strings.HasPrefix(reason, "value length must be between"):
		return "长度不在允许范围内：" + reason
	case strings.HasPrefix(reason, "value length must be at least"):
		return "长度不足：" + reason
	case strings.HasPrefix(reason, "value length must be at most"):
		return "长度超出上限：" + reason
	case strings.HasPrefix(reason, "value must be one of the defined enum values"),
		strings.HasPrefix(reason, "value must not be in list"),
		strings.HasPrefix(reason, "value must be in list"):
		return "取值不在允许范围内"
	case strings.HasPrefix(reason, "value must be greater"), strings.HasPrefix(reason, "value must be less"),
		strings.HasPrefix(reason, "value must be inside range"):
		return "数值超出允许范围：" + reason
	case strings.HasPrefix(reason, "value is required"):
		return "必填"
	}
	return reason
}

// accessLog writes one structured line per call: operation, outcome,
// latency, request and trace ids (the logger adds the trace ids).
func accessLog(logger log.Logger) middleware.Middleware {
	return func(next middleware.Handler) middleware.Handler {
		return func(ctx context.Context, req any) (any, error) {
			start := time.Now()
			reply, err := next(ctx, req)
			kind, op := "", ""
			if tr, ok := transport.FromServerContext(ctx); ok {
				kind, op = string(tr.Kind()), tr.Operation()
			}
			level, code, reason := log.LevelInfo, int32(200), ""
			if err != nil {
				e := kerrors.FromError(err)
				code, reason = e.Code, e.Reason
				if code >= 500 {
					level = log.LevelError
				} else {
					level = log.LevelWarn
				}
			}
			_ = log.WithContext(ctx, logger).Log(level,
				"kind", kind, "operation", op, "code", code, "reason", reason,
				"latency_ms", float64(time.Since(start).Microseconds())/1000,
				"request_id", RequestIDFromContext(ctx))
			return reply, err
		}
	}
}
