package literllm

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"os"
	"strconv"
	"strings"
	"unsafe"
)

// benchCChat runs n blocking chats in C (lgo_bench_chat): the baseline the
// benchmarks compare Client.Chat with.
func benchCChat(c *Client, requestJSON []byte, n int) error {
	creq, err := cBytes("request", requestJSON)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(creq))
	p, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.release()
	if st := C.lgo_bench_chat(p, creq, C.int(n)); st != C.LLM_OK {
		return Kind(st)
	}
	return nil
}

// rssKiB is the process's resident set (Linux /proc/self/status VmRSS), 0 if unknown.
func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return 0
}
