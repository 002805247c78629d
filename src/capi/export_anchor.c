/* The shared library's own translation unit; the implementation comes whole from
 * the literllm_core archive and src/capi/literllm.map decides what is exported. */
#include "literllm.h"
