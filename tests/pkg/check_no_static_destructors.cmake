# ctest abi.no_static_destructors: the shared library registers no static
# destructor. A static object with a non-trivial destructor is registered with
# __cxa_atexit when it is made; at exit() it would be destroyed while an I/O
# thread may still use it (issue 8). The only registrations allowed are the
# library's own exit handlers, through atexit() (whose libc_nonshared stub
# jumps to __cxa_atexit: a `jmp`, not a `call`).
#
#   cmake -DLIBRARY=<libliterllm.so> -DOBJDUMP=<objdump> -P check_no_static_destructors.cmake
cmake_minimum_required(VERSION 3.20)

foreach(v LIBRARY OBJDUMP)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "check_no_static_destructors: -D${v}=... is required")
  endif()
endforeach()

execute_process(COMMAND "${OBJDUMP}" -d --no-show-raw-insn "${LIBRARY}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE text ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_no_static_destructors: objdump failed: ${err}")
endif()
string(REGEX MATCHALL "call[^\n]*<__cxa_atexit@plt>" calls "${text}")
list(LENGTH calls n)
if(n GREATER 0)
  # Name the functions that register one.
  string(REPLACE "\n" ";" lines "${text}")
  set(fn "")
  set(where "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^[0-9a-f]+ <(.*)>:$")
      set(fn "${CMAKE_MATCH_1}")
    elseif(line MATCHES "call.*<__cxa_atexit@plt>")
      string(APPEND where "\n  ${fn}")
    endif()
  endforeach()
  message(FATAL_ERROR "check_no_static_destructors: ${n} static destructor(s) registered, in:${where}\n"
                      "Make such an object a pointer to a never-freed one (static T* p = new T).")
endif()
message(STATUS "check_no_static_destructors: no static destructor in ${LIBRARY}")
