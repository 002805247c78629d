// The process around the library: global initialization, fork() and exit().
// Nothing here has a destructor: the state must stay valid while the process
// exits and in a forked child.
#pragma once
#include "literllm.h"

namespace literllm {

// libcurl's global initialization (and the fork handlers), once it succeeds;
// a failure is reported and tried again by the next call. Thread-safe.
// Throws Error(LLM_ERR_OUT_OF_MEMORY / LLM_ERR_INTERNAL) on failure.
void global_init();

// How many fork()s this process descends from since the library was first
// initialized: an object made in a process remembers the value, and a
// different one means it is being used in a forked child.
unsigned fork_generation() noexcept;

}  // namespace literllm
