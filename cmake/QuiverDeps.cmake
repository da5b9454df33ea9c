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

# Snowball stemmers (libstemmer 2.2) for BM25. Natively: Debian's libstemmer-dev. In WASM: the same Snowball
# release's generated C, which scripts/setup.sh puts into .deps/snowball (see docs/formats.md), compiled here.
if(EMSCRIPTEN)
  set(QUIVER_SNOWBALL_DIR "${PROJECT_SOURCE_DIR}/.deps/snowball" CACHE PATH "Generated Snowball 2.2 C sources")
  file(GLOB _quiver_snowball_stemmers "${QUIVER_SNOWBALL_DIR}/src_c/stem_UTF_8_*.c")
  if(NOT EXISTS "${QUIVER_SNOWBALL_DIR}/libstemmer/libstemmer_utf8.c" OR NOT _quiver_snowball_stemmers)
    message(FATAL_ERROR "Snowball sources not found in ${QUIVER_SNOWBALL_DIR}: run scripts/setup.sh")
  endif()
  add_library(quiver_stemmer STATIC
    "${QUIVER_SNOWBALL_DIR}/libstemmer/libstemmer_utf8.c"
    "${QUIVER_SNOWBALL_DIR}/runtime/api.c"
    "${QUIVER_SNOWBALL_DIR}/runtime/utilities.c"
    ${_quiver_snowball_stemmers})
  target_include_directories(quiver_stemmer SYSTEM PUBLIC "${QUIVER_SNOWBALL_DIR}/include")
  target_compile_options(quiver_stemmer PRIVATE -Oz -w)  # WASM only: size over speed (words are short)
else()
  find_path(QUIVER_STEMMER_INCLUDE_DIR libstemmer.h)
  find_library(QUIVER_STEMMER_LIBRARY stemmer)
  if(NOT QUIVER_STEMMER_INCLUDE_DIR OR NOT QUIVER_STEMMER_LIBRARY)
    message(FATAL_ERROR "libstemmer not found: run scripts/setup.sh (Debian package libstemmer-dev)")
  endif()
  add_library(quiver_stemmer INTERFACE)
  target_link_libraries(quiver_stemmer INTERFACE "${QUIVER_STEMMER_LIBRARY}")
endif()
