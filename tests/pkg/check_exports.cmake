# ctest abi.exports: the shared library exports exactly the functions that
# include/literllm.h declares, and its SONAME is libliterllm.so.<major>.
#
#   cmake -DLIBRARY=<libliterllm.so> -DHEADER=<literllm.h> -DPARSER=<LiterllmHeaderSymbols.cmake>
#         -DWORK_DIR=<dir> -DEXPECTED_SONAME=libliterllm.so.0 -DNM=<nm>
#         [-DREADELF=<readelf>] [-DOBJDUMP=<objdump>] [-DVERSION_SCRIPT=<literllm.map>]
#         -P check_exports.cmake
#
# Exports are every defined dynamic symbol (`nm -D --defined-only`: functions,
# data, weak, unique, ...), less the version-node names the linker adds (the
# `A` symbols named like LITERLLM_0). The declared list comes from the header
# itself, parsed afresh, so it is never stale.
cmake_minimum_required(VERSION 3.20)

foreach(v LIBRARY HEADER PARSER WORK_DIR EXPECTED_SONAME NM)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "check_exports: -D${v}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${LIBRARY}")
  message(FATAL_ERROR "check_exports: the library ${LIBRARY} does not exist (build the literllm target first)")
endif()

set(errors "")

# ---- what the header declares
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -DQUIET=1 "-DHEADER=${HEADER}" "-DOUTPUT_DIR=${WORK_DIR}" -P "${PARSER}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_exports: the header parser failed on ${HEADER}:\n${out}")
endif()
file(STRINGS "${WORK_DIR}/literllm.symbols" declared)

# ---- what the library exports
execute_process(COMMAND "${NM}" -D --defined-only "${LIBRARY}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE nm_out ERROR_VARIABLE nm_err)
if(NOT rc EQUAL 0 AND NOT nm_err MATCHES "no symbols")   # "no symbols": nothing exported at all
  message(FATAL_ERROR "check_exports: ${NM} -D --defined-only ${LIBRARY} failed (${rc}):\n${nm_err}")
endif()

# Version nodes: from the version script, and from symbol@@NODE suffixes.
set(version_nodes "")
if(DEFINED VERSION_SCRIPT AND EXISTS "${VERSION_SCRIPT}")
  file(READ "${VERSION_SCRIPT}" map)
  string(REGEX MATCHALL "([A-Za-z_][A-Za-z0-9_.]*)[ \t\n]*\\{" nodes "${map}")
  foreach(n IN LISTS nodes)
    string(REGEX REPLACE "[ \t\n]*\\{$" "" n "${n}")
    list(APPEND version_nodes "${n}")
  endforeach()
endif()
string(REPLACE "\n" ";" nm_lines "${nm_out}")
foreach(line IN LISTS nm_lines)
  if(line MATCHES "@@?([A-Za-z0-9_.]+)$")
    list(APPEND version_nodes "${CMAKE_MATCH_1}")
  endif()
endforeach()
list(REMOVE_DUPLICATES version_nodes)

set(exported "")
set(bad_kind "")
foreach(line IN LISTS nm_lines)
  if(line STREQUAL "")
    continue()
  endif()
  if(NOT line MATCHES "^[0-9a-fA-F]* *([A-Za-z?]) (.+)$")
    list(APPEND errors "cannot read this line of nm output: '${line}'")
    continue()
  endif()
  set(kind "${CMAKE_MATCH_1}")
  set(name "${CMAKE_MATCH_2}")
  string(REGEX REPLACE "@.*$" "" name "${name}")
  if(kind STREQUAL "A" AND name IN_LIST version_nodes)
    continue()
  endif()
  list(APPEND exported "${name}")
  set(kind_of_${name} "${kind}")
  if(NOT kind MATCHES "^[TWi]$")
    list(APPEND bad_kind "${name} (nm type ${kind})")
  endif()
endforeach()
list(REMOVE_DUPLICATES exported)
list(SORT exported)

set(extra "${exported}")
list(REMOVE_ITEM extra ${declared})
set(missing "${declared}")
if(exported)
  list(REMOVE_ITEM missing ${exported})
endif()

list(LENGTH declared n_declared)
list(LENGTH exported n_exported)
message(STATUS "${HEADER} declares ${n_declared} functions; ${LIBRARY} exports ${n_exported} symbols")

if(extra)
  list(LENGTH extra n)
  find_program(CXXFILT NAMES c++filt)
  set(text "")
  foreach(s IN LISTS extra)
    set(shown "${s}")
    if(CXXFILT AND s MATCHES "^_Z")
      execute_process(COMMAND "${CXXFILT}" "${s}" OUTPUT_VARIABLE d OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(NOT d STREQUAL "" AND NOT d STREQUAL s)
        set(shown "${s}  [${d}]")
      endif()
    endif()
    string(APPEND text "\n    ${kind_of_${s}} ${shown}")
  endforeach()
  list(APPEND errors "${n} exported symbol(s) not declared in literllm.h (C++ or internals leaking: check -fvisibility and src/capi/literllm.map):${text}")
endif()
if(missing)
  list(LENGTH missing n)
  list(JOIN missing "\n    " text)
  list(APPEND errors "${n} function(s) declared in literllm.h but not exported by the library (no definition in src/capi, or not extern \"C\"):\n    ${text}")
endif()
foreach(s IN LISTS bad_kind)
  if(s MATCHES "^([^ ]+) " AND CMAKE_MATCH_1 IN_LIST declared)
    list(APPEND errors "declared function exported as a non-function symbol: ${s}")
  endif()
endforeach()

# ---- SONAME
set(soname "")
if(DEFINED READELF AND NOT READELF STREQUAL "")
  execute_process(COMMAND "${READELF}" -d "${LIBRARY}" RESULT_VARIABLE rc OUTPUT_VARIABLE dyn ERROR_VARIABLE err)
  if(rc EQUAL 0 AND dyn MATCHES "\\(SONAME\\)[^\n]*\\[([^]\n]+)\\]")
    set(soname "${CMAKE_MATCH_1}")
  endif()
endif()
if(soname STREQUAL "" AND DEFINED OBJDUMP AND NOT OBJDUMP STREQUAL "")
  execute_process(COMMAND "${OBJDUMP}" -p "${LIBRARY}" RESULT_VARIABLE rc OUTPUT_VARIABLE dyn ERROR_VARIABLE err)
  if(rc EQUAL 0 AND dyn MATCHES "SONAME[ \t]+([^ \t\n]+)")
    set(soname "${CMAKE_MATCH_1}")
  endif()
endif()
if(soname STREQUAL "")
  list(APPEND errors "${LIBRARY} has no SONAME (expected ${EXPECTED_SONAME}), or neither readelf nor objdump could read it")
elseif(NOT soname STREQUAL EXPECTED_SONAME)
  list(APPEND errors "SONAME is ${soname}, expected ${EXPECTED_SONAME}")
else()
  message(STATUS "SONAME ${soname}")
endif()

if(errors)
  list(JOIN errors "\n  - " text)
  message(FATAL_ERROR "check_exports: ${LIBRARY} does not match ${HEADER}:\n  - ${text}\n")
endif()
message(STATUS "exports match the header: ${n_declared} functions")
