# LiterllmHeaderApi.cmake: the `literllm_header_api` target.
#
# include()d once from the top-level CMakeLists.txt (tests/pkg includes it too
# when the top level has not). It describes include/literllm.h for the
# generators of the bindings' low-level declarations:
#   ${LITERLLM_SYMBOLS_FILE}  literllm.symbols: every declared function, sorted
#   ${LITERLLM_API_JSON}      literllm.api.json: signatures, callbacks, enums, ...
# Both live in the top build directory and are rebuilt when the header or the
# parser changes. A generator depends on them with
#   add_custom_command(OUTPUT ... DEPENDS ${LITERLLM_API_JSON} literllm_header_api ...)
# The target carries the two paths as properties LITERLLM_API_JSON and
# LITERLLM_SYMBOLS_FILE, for code that does not see these variables.
include_guard(GLOBAL)

set(LITERLLM_PUBLIC_HEADER "${PROJECT_SOURCE_DIR}/include/literllm.h")
set(LITERLLM_HEADER_PARSER "${CMAKE_CURRENT_LIST_DIR}/LiterllmHeaderSymbols.cmake")
set(LITERLLM_SYMBOLS_FILE "${PROJECT_BINARY_DIR}/literllm.symbols")
set(LITERLLM_API_JSON "${PROJECT_BINARY_DIR}/literllm.api.json")

add_custom_command(
  OUTPUT "${LITERLLM_SYMBOLS_FILE}" "${LITERLLM_API_JSON}"
  COMMAND "${CMAKE_COMMAND}" -DQUIET=1
          "-DHEADER=${LITERLLM_PUBLIC_HEADER}"
          "-DSYMBOLS_OUT=${LITERLLM_SYMBOLS_FILE}"
          "-DJSON_OUT=${LITERLLM_API_JSON}"
          -P "${LITERLLM_HEADER_PARSER}"
  # The parser writes only changed content; touch so the outputs are newer
  # than the header and the rule settles.
  COMMAND "${CMAKE_COMMAND}" -E touch_nocreate "${LITERLLM_SYMBOLS_FILE}" "${LITERLLM_API_JSON}"
  DEPENDS "${LITERLLM_PUBLIC_HEADER}" "${LITERLLM_HEADER_PARSER}"
  COMMENT "Describing the C API of include/literllm.h (literllm.symbols, literllm.api.json)"
  VERBATIM)
add_custom_target(literllm_header_api ALL
  DEPENDS "${LITERLLM_SYMBOLS_FILE}" "${LITERLLM_API_JSON}")
set_target_properties(literllm_header_api PROPERTIES
  LITERLLM_API_JSON "${LITERLLM_API_JSON}"
  LITERLLM_SYMBOLS_FILE "${LITERLLM_SYMBOLS_FILE}")
