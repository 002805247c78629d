package literllm

/*
#include <stdint.h>
#include <literllm.h>
*/
import "C"

import "runtime/cgo"

// asyncCall receives the library's callbacks for one request. Its methods run
// on the client's I/O thread: they only copy and hand over, never block.
type asyncCall interface {
	onChunk(chunkJSON string) (cancel bool)
	onDone(resp *C.llm_response_t, err *Error)
}

//export literllmGoDone
func literllmGoDone(status C.llm_status, resp *C.llm_response_t, cerr *C.llm_error_t, h C.uintptr_t) {
	call := cgo.Handle(h).Value().(asyncCall)
	var e *Error
	if status != C.LLM_OK {
		e = errorFromC(Kind(status), cerr) // borrowed: copied, not freed
	}
	call.onDone(resp, e)
}

//export literllmGoChunk
func literllmGoChunk(chunk *C.char, h C.uintptr_t) C.int {
	call := cgo.Handle(h).Value().(asyncCall)
	if call.onChunk(C.GoString(chunk)) {
		return 1
	}
	return 0
}
