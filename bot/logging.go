package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"strings"
)

// requestIDKey is the context key of a request id.
type requestIDKey struct{}

// RequestIDAttr is the log attribute that carries a request id.
const RequestIDAttr = "request_id"

// WithRequestID returns ctx carrying id as the request id of the work done
// under it. The runtime gives every envelope's handling the envelope's id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// newRequestID returns the request id of an envelope: its envelope id, or
// a random one when it has none.
func newRequestID(envelopeID string) string {
	if envelopeID != "" {
		return envelopeID
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return "gen-" + hex.EncodeToString(b[:])
}

// NewContextHandler returns a handler that writes through h and adds the
// request id of the context a record is logged with (Logger.InfoContext
// and the like) as request_id, unless the record or the logger has one
// already. Handlers that log with the context they were given thus tie
// their lines to the envelope they handle.
func NewContextHandler(h slog.Handler) slog.Handler { return contextHandler{next: h} }

// contextHandler is NewContextHandler's handler.
type contextHandler struct {
	next slog.Handler
	// has: the logger carries a request_id of its own (With).
	has bool
}

func (h contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" && !h.has && !recordHas(r, RequestIDAttr) {
		r = r.Clone()
		r.AddAttrs(slog.String(RequestIDAttr, id))
	}
	return h.next.Handle(ctx, r)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	has := h.has
	for _, a := range attrs {
		has = has || a.Key == RequestIDAttr
	}
	return contextHandler{next: h.next.WithAttrs(attrs), has: has}
}

// WithGroup opens a group; request ids added later nest in it, like every
// attribute after it.
func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{next: h.next.WithGroup(name), has: h.has}
}

// recordHas reports whether r has a top-level attribute key.
func recordHas(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

// withoutURLs returns err with the URL of any *url.Error in it cut down to
// its scheme and host: a response_url or a file upload URL is a
// credential of its own, and must not reach the logs. The error still
// matches what err matched (errors.Is, errors.As).
func withoutURLs(err error) error {
	var ue *url.Error
	if err == nil || !errors.As(err, &ue) || ue.URL == "" {
		return err
	}
	short := "(url)"
	if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
		short = u.Scheme + "://" + u.Host + "/..."
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), ue.URL, short), err: err}
}

// redactedError is an error with a message scrubbed of what it must not
// show.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }
