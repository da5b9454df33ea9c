# Third-party headers. Everything comes from Debian packages except xsimd 13.2, which scripts/setup.sh unpacks
# into .deps/xsimd (bookworm's xsimd is too old and has no WASM backend).

set(QUIVER_XSIMD_DIR "${PROJECT_SOURCE_DIR}/.deps/xsimd" CACHE PATH "Folder holding xsimd/xsimd.hpp (13.x)")
if(NOT EXISTS "${QUIVER_XSIMD_DIR}/xsimd/xsimd.hpp")
  message(FATAL_ERROR "xsimd 13 not found in ${QUIVER_XSIMD_DIR}: run scripts/setup.sh")
endif()

add_library(quiver_xsimd INTERFACE)
target_include_directories(quiver_xsimd SYSTEM INTERFACE "${QUIVER_XSIMD_DIR}")

# Header-only libraries installed by Debian under /usr/include. Emscripten must not see all of /usr/include (it
# would shadow its own libc), so in WASM builds they are reached through a folder that links only to them.
add_library(quiver_system_headers INTERFACE)
if(EMSCRIPTEN)
  set(_quiver_sysinc "${CMAKE_BINARY_DIR}/wasm-sysinc")
  file(MAKE_DIRECTORY "${_quiver_sysinc}")
  foreach(_dir boost catch2 hnswlib)
    if(EXISTS "/usr/include/${_dir}" AND NOT EXISTS "${_quiver_sysinc}/${_dir}")
      file(CREATE_LINK "/usr/include/${_dir}" "${_quiver_sysinc}/${_dir}" SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(quiver_system_headers SYSTEM INTERFACE "${_quiver_sysinc}")
endif()
