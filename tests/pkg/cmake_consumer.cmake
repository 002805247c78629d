# ctest pkg.cmake_consumer: configure, build and run tests/pkg/cmake_consumer
# (find_package(literllm) + literllm::literllm) against the installed tree.
#
#   cmake -DPREFIX=<install prefix> -DLIBDIR=lib -DVERSION=0.1.0 -DSOURCE_DIR=<tests/pkg/cmake_consumer>
#         -DWORK_DIR=<dir> -DGENERATOR=<generator> -DC_COMPILER=<cc>
#         [-DMAKE_PROGRAM=<ninja/make>] [-DC_FLAGS=<flags>] [-DLDD=<ldd>]
#         -P cmake_consumer.cmake
cmake_minimum_required(VERSION 3.20)

foreach(v PREFIX LIBDIR VERSION SOURCE_DIR WORK_DIR GENERATOR C_COMPILER)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "cmake_consumer: -D${v}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${PREFIX}/${LIBDIR}/cmake/literllm/literllmConfig.cmake")
  message(FATAL_ERROR "cmake_consumer: no CMake package in ${PREFIX}/${LIBDIR}/cmake/literllm (did pkg.install run?)")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")

set(configure "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}" -G "${GENERATOR}"
  "-DCMAKE_C_COMPILER=${C_COMPILER}"
  "-DCMAKE_BUILD_TYPE=Debug"
  "-DCMAKE_PREFIX_PATH=${PREFIX}"
  # Only the prefix may answer: not the user's or the system's package registry.
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
  "-DLITERLLM_EXPECTED_PREFIX=${PREFIX}"
  "-DLITERLLM_EXPECTED_VERSION=${VERSION}")
if(DEFINED MAKE_PROGRAM AND NOT MAKE_PROGRAM STREQUAL "")
  list(APPEND configure "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(DEFINED C_FLAGS AND NOT C_FLAGS STREQUAL "")
  list(APPEND configure "-DCMAKE_C_FLAGS=${C_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${C_FLAGS}")
endif()
# The environment must not lead find_package elsewhere.
unset(ENV{literllm_DIR})
unset(ENV{literllm_ROOT})
unset(ENV{CMAKE_PREFIX_PATH})

execute_process(COMMAND ${configure} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message(STATUS "${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake_consumer: configuring ${SOURCE_DIR} against ${PREFIX} failed (${rc}); see above")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${WORK_DIR}" --config Debug
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message(STATUS "${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake_consumer: building against literllm::literllm failed (${rc}); see above")
endif()

set(exe "${WORK_DIR}/bin/literllm_consumer")
if(NOT EXISTS "${exe}")
  message(FATAL_ERROR "cmake_consumer: ${exe} was not built")
endif()
# The imported target's location gives the executable its run path: no
# LD_LIBRARY_PATH, so that this is what is tested.
unset(ENV{LD_LIBRARY_PATH})
get_filename_component(real_prefix "${PREFIX}" REALPATH)
if(DEFINED LDD AND NOT LDD STREQUAL "")
  execute_process(COMMAND "${LDD}" "${exe}" RESULT_VARIABLE rc OUTPUT_VARIABLE ldd_out ERROR_VARIABLE ldd_err)
  if(rc EQUAL 0)
    if(NOT ldd_out MATCHES "libliterllm\\.so[^\n]*=> *([^ \n]+)")
      message(FATAL_ERROR "cmake_consumer: ldd does not resolve libliterllm for ${exe}:\n${ldd_out}")
    endif()
    get_filename_component(loaded "${CMAKE_MATCH_1}" REALPATH)
    string(FIND "${loaded}" "${real_prefix}/" at)
    if(NOT at EQUAL 0)
      message(FATAL_ERROR "cmake_consumer: ${exe} would load ${loaded}, not the library installed in ${PREFIX}")
    endif()
  endif()
endif()
execute_process(COMMAND "${exe}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
message(STATUS "consumer output:\n${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake_consumer: ${exe} failed (${rc}); see its output above")
endif()
