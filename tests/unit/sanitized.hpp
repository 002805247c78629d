// LITERLLM_SANITIZED is 1 in a build under AddressSanitizer or ThreadSanitizer,
// whose allocators end the process instead of throwing std::bad_alloc and do
// not show in mallinfo2.
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LITERLLM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LITERLLM_SANITIZED 1
#endif
#endif
