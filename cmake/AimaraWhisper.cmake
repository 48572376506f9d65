# Provides the target aimara::whisper (whisper.cpp + ggml), from one of, in order:
#   -DAIMARA_WHISPER_DIR=<source tree>       a whisper.cpp source tree, built as part of this build
#   -DAIMARA_USE_INSTALLED_WHISPER=ON        an installed whisper (find_package(whisper))
#   third_party/whisper.cpp                  the pinned 1.9.1 source fetched by scripts/fetch-whisper
set(AIMARA_WHISPER_DIR "" CACHE PATH "whisper.cpp source tree to build (default: third_party/whisper.cpp)")
option(AIMARA_USE_INSTALLED_WHISPER "Use an installed whisper.cpp (find_package) instead of building one" OFF)

if(AIMARA_USE_INSTALLED_WHISPER)
  find_package(whisper REQUIRED CONFIG)
  add_library(aimara_whisper INTERFACE)
  target_link_libraries(aimara_whisper INTERFACE whisper)
  add_library(aimara::whisper ALIAS aimara_whisper)
  set(AIMARA_WHISPER_SOURCE "")
  message(STATUS "aimara: using installed whisper.cpp ${whisper_VERSION}")
  return()
endif()

set(_src "${AIMARA_WHISPER_DIR}")
if(NOT _src)
  set(_src "${PROJECT_SOURCE_DIR}/third_party/whisper.cpp")
endif()
if(NOT EXISTS "${_src}/include/whisper.h")
  message(FATAL_ERROR
    "aimara: no whisper.cpp source at ${_src}.\n"
    "Run scripts/bootstrap (or scripts/fetch-whisper) to fetch the pinned 1.9.1 source, "
    "or pass -DAIMARA_WHISPER_DIR=<whisper.cpp source> or -DAIMARA_USE_INSTALLED_WHISPER=ON.")
endif()
set(AIMARA_WHISPER_SOURCE "${_src}" CACHE INTERNAL "")

# Built for speed: static, native CPU, llamafile matmul kernels (measured ~1.6x on the encoder).
set(BUILD_SHARED_LIBS OFF CACHE BOOL "" FORCE)
set(GGML_NATIVE ON CACHE BOOL "")
set(GGML_LLAMAFILE ON CACHE BOOL "")
set(GGML_CUDA ${AIMARA_CUDA} CACHE BOOL "" FORCE)
set(WHISPER_BUILD_TESTS OFF CACHE BOOL "" FORCE)
set(WHISPER_BUILD_SERVER OFF CACHE BOOL "" FORCE)
set(WHISPER_BUILD_EXAMPLES ON CACHE BOOL "")   # whisper-cli, for bench/ (not built by default)
set(WHISPER_ALL_WARNINGS OFF CACHE BOOL "" FORCE)
add_subdirectory("${_src}" "${CMAKE_BINARY_DIR}/whisper.cpp" EXCLUDE_FROM_ALL SYSTEM)

add_library(aimara_whisper INTERFACE)
target_link_libraries(aimara_whisper INTERFACE whisper)
add_library(aimara::whisper ALIAS aimara_whisper)
