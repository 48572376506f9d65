# Embeds default_watchlist.json in the library: nlp/watchlist.h default_watchlist_document().
# The JSON is the source of truth; editing it re-runs CMake and rebuilds the generated file.
set(_aimara_watchlist_json "${CMAKE_CURRENT_LIST_DIR}/default_watchlist.json")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_aimara_watchlist_json}")
file(READ "${_aimara_watchlist_json}" AIMARA_DEFAULT_WATCHLIST_JSON)
configure_file("${CMAKE_CURRENT_LIST_DIR}/default_watchlist.cpp.in"
  "${CMAKE_CURRENT_BINARY_DIR}/default_watchlist.cpp" @ONLY)
set(AIMARA_DEFAULT_WATCHLIST_SOURCE "${CMAKE_CURRENT_BINARY_DIR}/default_watchlist.cpp")
