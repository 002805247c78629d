package literllm

/*
#include <literllm.h>
*/
import "C"

import (
	"errors"
	"strconv"
	"time"
)

// Error is a failed call of the library: its Kind (llm_status) and everything
// the library's error object says. Match it with errors.Is(err, ErrTimeout)
// or errors.As(err, &e).
type Error struct {
	Kind       Kind
	Message    string // UTF-8, secrets redacted
	HTTPStatus int    // the provider's HTTP status, 0 when the error is not from an HTTP answer
	Provider   string // the provider's name, "" when the call was not routed to one
	Code       string // the provider's error "code", "" when none
	Type       string // the provider's error "type", "" when none
	// RetryAfter is how long the provider asked to wait, -1 when it did not say.
	RetryAfter time.Duration
	Retries    int   // retries made before failing
	cause      error // the context error when a cancellation came from a context
}

func (e *Error) Error() string {
	s := "literllm: " + e.Kind.String()
	if e.HTTPStatus != 0 {
		s += " (HTTP " + strconv.Itoa(e.HTTPStatus) + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is reports whether target is this error's Kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// Unwrap gives the context's error (context.Canceled, context.DeadlineExceeded)
// when the call was cancelled through its context.
func (e *Error) Unwrap() error { return e.cause }

// String gives the C constant's name ("LLM_ERR_TIMEOUT"), as llm_status_str.
func (k Kind) String() string {
	if n := kindName(k); n != "" {
		return n
	}
	return "LLM_ERR_UNKNOWN"
}

// Error makes a Kind usable as an errors.Is target; it is the Kind's name.
func (k Kind) Error() string { return k.String() }

// ErrClosed is returned by calls on a Client after Close.
var ErrClosed = errors.New("literllm: client is closed")

// errorFromC copies a borrowed error object. A NULL object (not expected on
// failure) still gives an *Error of that kind.
func errorFromC(kind Kind, e *C.llm_error_t) *Error {
	if e != nil {
		kind = Kind(llm_error_status(e))
	}
	out := &Error{
		Kind:       kind,
		Message:    C.GoString(llm_error_message(e)),
		HTTPStatus: int(llm_error_http_status(e)),
		Provider:   goStringOrEmpty(llm_error_provider(e)),
		Code:       goStringOrEmpty(llm_error_code(e)),
		Type:       goStringOrEmpty(llm_error_type(e)),
		RetryAfter: -1,
		Retries:    int(llm_error_retries(e)),
	}
	if ms := int64(llm_error_retry_after_ms(e)); ms >= 0 {
		out.RetryAfter = time.Duration(ms) * time.Millisecond
	}
	return out
}

// takeError copies an owned error object and frees it.
func takeError(status C.llm_status, e *C.llm_error_t) *Error {
	out := errorFromC(Kind(status), e)
	llm_error_free(e)
	return out
}

func goStringOrEmpty(s *C.char) string {
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// libStatusName is the library's own name of a status (llm_status_str).
func libStatusName(k Kind) string { return C.GoString(llm_status_str(C.llm_status(k))) }
