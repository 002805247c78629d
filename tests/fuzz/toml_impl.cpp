// toml++'s implementation for fuzz_config, in a translation unit of its own so
// that it can be built with flags of its own (see CMakeLists.txt): the rest of
// fuzz_config uses toml++ as a header (TOML_HEADER_ONLY=0), like literllm does
// with the packaged library, but here the parser is compiled with the fuzzer's
// coverage instrumentation.
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
