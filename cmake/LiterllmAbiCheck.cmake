# LiterllmAbiCheck.cmake: the library's ABI against a stored baseline (libabigail).
#
#   cmake -DMODE=check   -DLIBRARY=<libliterllm.so> -DHEADERS_DIR=<include> -DBASELINE=<literllm.abi>
#         -DWORK_DIR=<dir> -DABIDW=<abidw> -DABIDIFF=<abidiff> [-DREADELF=<readelf>] -P LiterllmAbiCheck.cmake
#   cmake -DMODE=refresh ... (same)   writes BASELINE from LIBRARY
#
# check: the ABI may only grow. abidiff's verdict (exit bit 8, "incompatible")
# and its summaries decide: any removed or changed function or variable, or any
# removed symbol, fails; added ones are reported and pass. Changes libabigail
# itself calls harmless (an enumerator appended to llm_status, say) pass.
# Prints LITERLLM_TEST_SKIPPED and succeeds (ctest SKIP_REGULAR_EXPRESSION makes
# that a skip) when there is no baseline yet or the library has no DWARF (a
# Release build): the check needs both.
#
# refresh is deliberate (target literllm_abi_baseline): run it when a release
# fixes the ABI, review `git diff tests/pkg/abi/literllm.abi`, and commit it.
# The XML is written without paths, locations or compilation directories, so
# that it depends on the API only.
cmake_minimum_required(VERSION 3.20)

foreach(v MODE LIBRARY HEADERS_DIR BASELINE ABIDW)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "LiterllmAbiCheck: -D${v}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${LIBRARY}")
  message(FATAL_ERROR "LiterllmAbiCheck: ${LIBRARY} does not exist (build the literllm target first)")
endif()

# abidw needs DWARF to see types; without it every function would look changed.
if(DEFINED READELF AND NOT READELF STREQUAL "")
  execute_process(COMMAND "${READELF}" -S -W "${LIBRARY}" OUTPUT_VARIABLE sections ERROR_QUIET)
  if(NOT sections MATCHES "\\.debug_info")
    if(MODE STREQUAL "refresh")
      message(FATAL_ERROR "LiterllmAbiCheck: cannot write a baseline from a library without DWARF")
    endif()
    message(STATUS "LITERLLM_TEST_SKIPPED: ${LIBRARY} has no debug information (build with -g: "
                   "RelWithDebInfo or Debug); the ABI check needs it")
    return()
  endif()
endif()

set(abidw_flags
  --headers-dir "${HEADERS_DIR}"   # public types are those of include/
  --drop-private-types
  --exported-interfaces-only       # only what the .so exports (fast on a big C++ library)
  --no-corpus-path --no-comp-dir-path --no-show-locs --no-elf-needed
  --no-parameter-names)            # names are not ABI, and change with the implementation

function(run_abidw out_file)
  get_filename_component(dir "${out_file}" DIRECTORY)
  file(MAKE_DIRECTORY "${dir}")
  execute_process(COMMAND "${ABIDW}" ${abidw_flags} --out-file "${out_file}" "${LIBRARY}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "LiterllmAbiCheck: abidw failed on ${LIBRARY} (${rc}):\n${out}")
  endif()
  # Translation units are named by their absolute source path: drop it, so the
  # baseline does not depend on where the tree was checked out.
  file(READ "${out_file}" xml)
  string(REGEX REPLACE "(<abi-instr[^>]*) path='[^']*'" "\\1" xml "${xml}")
  file(WRITE "${out_file}" "${xml}")
endfunction()

if(MODE STREQUAL "refresh")
  run_abidw("${BASELINE}")
  message(STATUS "wrote the ABI baseline ${BASELINE}; review it and commit it")
  return()
elseif(NOT MODE STREQUAL "check")
  message(FATAL_ERROR "LiterllmAbiCheck: MODE must be check or refresh, not '${MODE}'")
endif()

foreach(v WORK_DIR ABIDIFF)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "LiterllmAbiCheck: -D${v}=... is required for MODE=check")
  endif()
endforeach()
if(NOT EXISTS "${BASELINE}")
  message(STATUS "LITERLLM_TEST_SKIPPED: no ABI baseline at ${BASELINE}. Create it once the ABI "
                 "is to be kept: cmake --build <build> --target literllm_abi_baseline, then commit the file")
  return()
endif()

set(current "${WORK_DIR}/literllm.current.abi")
run_abidw("${current}")
execute_process(COMMAND "${ABIDIFF}" --no-show-locs "${BASELINE}" "${current}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE report ERROR_VARIABLE err)
message(STATUS "abidiff ${BASELINE} ${current}: exit ${rc}\n${report}${err}")
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "LiterllmAbiCheck: abidiff did not run: ${rc}")
endif()

set(errors "")
math(EXPR tool_error "${rc} & 3")
math(EXPR incompatible "${rc} & 8")
if(tool_error)
  list(APPEND errors "abidiff failed (exit ${rc}): ${err}")
endif()
if(incompatible)
  list(APPEND errors "abidiff reports an incompatible ABI change")
endif()
# "Functions changes summary: 0 Removed, 1 Changed (2 filtered out), 3 Added functions"
foreach(what Functions Variables)
  if(report MATCHES "${what} changes summary: ([0-9]+) Removed[^,]*, ([0-9]+) Changed[^,]*, ([0-9]+) Added")
    set(removed "${CMAKE_MATCH_1}")
    set(changed "${CMAKE_MATCH_2}")
    set(added "${CMAKE_MATCH_3}")
    string(TOLOWER "${what}" lwhat)
    if(removed GREATER 0)
      list(APPEND errors "${lwhat} removed: ${removed}")
    endif()
    if(changed GREATER 0)
      list(APPEND errors "${lwhat} changed: ${changed}")
    endif()
    if(added GREATER 0)
      message(STATUS "${lwhat} added: ${added} (allowed)")
    endif()
  endif()
endforeach()
# "Function symbols changes summary: 1 Removed, 0 Added function symbol not referenced by debug info"
foreach(what "Function symbols" "Variable symbols")
  if(report MATCHES "${what} changes summary: ([0-9]+) Removed")
    if(CMAKE_MATCH_1 GREATER 0)
      string(TOLOWER "${what}" lwhat)
      list(APPEND errors "${lwhat} removed: ${CMAKE_MATCH_1}")
    endif()
  endif()
endforeach()

if(errors)
  list(JOIN errors "\n  - " text)
  message(FATAL_ERROR "LiterllmAbiCheck: the ABI of ${LIBRARY} is not a superset of the baseline ${BASELINE}:\n  - ${text}\n"
                      "If this break is deliberate (a new SONAME major), refresh the baseline: "
                      "cmake --build <build> --target literllm_abi_baseline")
endif()
message(STATUS "ABI compatible with ${BASELINE}")
