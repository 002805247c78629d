# LiterllmCallRules.cmake: llm_call's request checks, generated from OpenAI's
# OpenAPI description (tools/gen_call_rules.py -> src/core/call_rules.inc).
#
# include()d from the top-level CMakeLists.txt:
#   target `call_rules`          rewrites the committed src/core/call_rules.inc
#   ctest `call_rules.generated` fails when the committed file differs from
#                                what the generator writes now (or when the
#                                description or python3 + PyYAML is missing)
# The same file is the test's script: `cmake -P` with SPEC, OUT, PYTHON and
# GENERATOR runs the generator into a temporary file and compares it.

if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT PYTHON)
    message(FATAL_ERROR "call_rules.generated: no python3 was found at configure time "
                        "(tools/gen_call_rules.py needs python3 with PyYAML: apt-get install python3-yaml)")
  endif()
  if(NOT EXISTS "${SPEC}")
    message(FATAL_ERROR "call_rules.generated: the OpenAI description ${SPEC} is absent, so "
                        "${OUT} cannot be checked: set -DLITERLLM_OPENAI_SPEC=<path to openai-openapi.yaml>")
  endif()
  set(fresh "${TMP_DIR}/call_rules.inc.generated")
  file(REMOVE "${fresh}")
  execute_process(COMMAND "${PYTHON}" "${GENERATOR}" "${SPEC}" "${fresh}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "call_rules.generated: ${GENERATOR} failed (${rc})")
  endif()
  execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${fresh}" "${OUT}" RESULT_VARIABLE differs)
  if(NOT differs EQUAL 0)
    execute_process(COMMAND diff -u "${OUT}" "${fresh}")
    message(FATAL_ERROR "call_rules.generated: ${OUT} is stale against ${SPEC}: "
                        "regenerate it with `cmake --build <build-dir> --target call_rules` and commit it")
  endif()
  file(REMOVE "${fresh}")
  message(STATUS "${OUT} is up to date with ${SPEC}")
  return()
endif()

include_guard(GLOBAL)

set(LITERLLM_OPENAI_SPEC "${PROJECT_SOURCE_DIR}/../shared/specs/openai-openapi.yaml" CACHE FILEPATH
    "OpenAI's OpenAPI description, from which src/core/call_rules.inc is generated")
set(LITERLLM_CALL_RULES_GENERATOR "${PROJECT_SOURCE_DIR}/tools/gen_call_rules.py")
set(LITERLLM_CALL_RULES_INC "${PROJECT_SOURCE_DIR}/src/core/call_rules.inc")
# /usr/bin/python3 first (Debian's, with python3-yaml), as for the bindings.
find_program(LITERLLM_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)

if(LITERLLM_PYTHON3 AND EXISTS "${LITERLLM_OPENAI_SPEC}")
  add_custom_target(call_rules
    COMMAND ${LITERLLM_PYTHON3} ${LITERLLM_CALL_RULES_GENERATOR} ${LITERLLM_OPENAI_SPEC} ${LITERLLM_CALL_RULES_INC}
    COMMENT "Generating src/core/call_rules.inc from ${LITERLLM_OPENAI_SPEC}"
    VERBATIM)
else()
  add_custom_target(call_rules
    COMMAND ${CMAKE_COMMAND} -E echo
            "call_rules: needs python3 (with PyYAML) and the OpenAI description at ${LITERLLM_OPENAI_SPEC} (LITERLLM_OPENAI_SPEC)"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()

if(LITERLLM_BUILD_TESTS)
  add_test(NAME call_rules.generated
    COMMAND ${CMAKE_COMMAND} "-DSPEC=${LITERLLM_OPENAI_SPEC}" "-DOUT=${LITERLLM_CALL_RULES_INC}"
            "-DPYTHON=${LITERLLM_PYTHON3}" "-DGENERATOR=${LITERLLM_CALL_RULES_GENERATOR}"
            "-DTMP_DIR=${CMAKE_CURRENT_BINARY_DIR}" -P "${CMAKE_CURRENT_LIST_FILE}")
  set_tests_properties(call_rules.generated PROPERTIES LABELS "generated" TIMEOUT 120)
endif()
