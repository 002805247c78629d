# LiterllmPkgConfig.cmake: variables for pkgconfig/literllm.pc.in.
#
# include()d by the top-level CMakeLists.txt before it configures literllm.pc.
# The .pc is relocatable: its prefix is found from the .pc's own place
# (${pcfiledir}, which pkg-config and pkgconf both define), so a tree installed
# with `cmake --install <build> --prefix <anywhere>` (which does not configure
# files again) or moved afterwards still gives the right -I and -L.
#   LITERLLM_PC_PREFIX      ${pcfiledir}/.. (as many as <libdir>/pkgconfig has parts)
#   LITERLLM_PC_LIBDIR      ${prefix}/<libdir>
#   LITERLLM_PC_INCLUDEDIR  ${prefix}/<includedir>
# An absolute CMAKE_INSTALL_LIBDIR or INCLUDEDIR is used as it stands (such a
# tree is not relocatable, by the user's choice).
include_guard(GLOBAL)
include(GNUInstallDirs)

if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(LITERLLM_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(LITERLLM_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
else()
  # <prefix>/<libdir>/pkgconfig/literllm.pc: one ".." per part of <libdir>, plus pkgconfig.
  string(REGEX REPLACE "/+$" "" _llm_libdir "${CMAKE_INSTALL_LIBDIR}")
  string(REPLACE "/" ";" _llm_parts "${_llm_libdir}")
  set(LITERLLM_PC_PREFIX "\${pcfiledir}/..")
  foreach(_llm_part IN LISTS _llm_parts)
    if(_llm_part STREQUAL "" OR _llm_part STREQUAL ".")
      continue()
    endif()
    if(_llm_part STREQUAL "..")
      message(FATAL_ERROR "literllm.pc: CMAKE_INSTALL_LIBDIR '${CMAKE_INSTALL_LIBDIR}' may not contain '..'")
    endif()
    string(APPEND LITERLLM_PC_PREFIX "/..")
  endforeach()
  set(LITERLLM_PC_LIBDIR "\${prefix}/${_llm_libdir}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(LITERLLM_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(LITERLLM_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
unset(_llm_libdir)
unset(_llm_parts)
unset(_llm_part)
