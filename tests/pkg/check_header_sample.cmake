# ctest pkg.header_parser.sample: cmake/LiterllmHeaderSymbols.cmake on
# header_cases/sample.h must give exactly header_cases/sample.symbols and
# header_cases/sample.api.json. After a deliberate change to the parser's
# output, regenerate both with
#   cmake -DHEADER=tests/pkg/header_cases/sample.h -DOUTPUT_DIR=/tmp/x -P cmake/LiterllmHeaderSymbols.cmake
# and copy /tmp/x/literllm.symbols and literllm.api.json over them.
#
#   cmake -DPARSER=<LiterllmHeaderSymbols.cmake> -DCASES=<tests/pkg/header_cases> -DWORK_DIR=<dir>
#         -P check_header_sample.cmake
cmake_minimum_required(VERSION 3.20)
foreach(v PARSER CASES WORK_DIR)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "check_header_sample: -D${v}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -DQUIET=1 "-DHEADER=${CASES}/sample.h" "-DOUTPUT_DIR=${WORK_DIR}" -P "${PARSER}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_header_sample: the parser failed on sample.h:\n${out}")
endif()
set(errors "")
find_program(DIFF NAMES diff)
foreach(pair "literllm.symbols=sample.symbols" "literllm.api.json=sample.api.json")
  string(REPLACE "=" ";" pair "${pair}")
  list(GET pair 0 got)
  list(GET pair 1 want)
  file(READ "${WORK_DIR}/${got}" a)
  file(READ "${CASES}/${want}" b)
  if(NOT a STREQUAL b)
    set(shown "")
    if(DIFF)
      execute_process(COMMAND "${DIFF}" -u "${CASES}/${want}" "${WORK_DIR}/${got}" OUTPUT_VARIABLE shown)
    endif()
    list(APPEND errors "${got} differs from header_cases/${want}:\n${shown}")
  endif()
endforeach()
if(errors)
  list(JOIN errors "\n" text)
  message(FATAL_ERROR "check_header_sample:\n${text}")
endif()
