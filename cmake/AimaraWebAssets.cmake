# aimara_web_assets_library(): the static library aimara_web_assets, web/ compiled into the binary.
#
# Every file under web/ becomes bytes in a generated source (EmbedWebAssets.cmake, run with
# `cmake -P` at build time), behind aimara::server::find_web_asset (src/server/web_assets.h).
# Editing a file in web/ regenerates and rebuilds; adding or removing one re-runs the configure
# step (CONFIGURE_DEPENDS). Also registers the library's unit test (src/server/web_assets_test.cpp).
#
# Called once, from src/server/CMakeLists.txt (include(AimaraWebAssets) first); the server links
# aimara_web_assets.
function(aimara_web_assets_library)
  set(web_dir "${PROJECT_SOURCE_DIR}/web")
  set(script "${PROJECT_SOURCE_DIR}/cmake/EmbedWebAssets.cmake")
  set(generated "${CMAKE_CURRENT_BINARY_DIR}/web_assets_data.cpp")
  file(GLOB_RECURSE web_files CONFIGURE_DEPENDS LIST_DIRECTORIES false RELATIVE "${web_dir}"
    "${web_dir}/*")
  list(FILTER web_files EXCLUDE REGEX "(^|/)\\.")  # hidden files, as the script skips them
  list(TRANSFORM web_files PREPEND "${web_dir}/")
  add_custom_command(
    OUTPUT "${generated}"
    COMMAND "${CMAKE_COMMAND}" "-DWEB_DIR=${web_dir}" "-DOUTPUT=${generated}" -P "${script}"
    DEPENDS "${script}" ${web_files}
    COMMENT "Embedding the dashboard (web/)"
    VERBATIM)
  add_library(aimara_web_assets STATIC "${generated}" "${PROJECT_SOURCE_DIR}/src/server/web_assets.h")
  target_include_directories(aimara_web_assets PUBLIC "${PROJECT_SOURCE_DIR}/src")
  target_compile_options(aimara_web_assets PRIVATE ${AIMARA_WARNINGS})

  aimara_add_test(web_assets_test
    SOURCES "${PROJECT_SOURCE_DIR}/src/server/web_assets_test.cpp"
    LIBS aimara_web_assets
    LABELS unit)
endfunction()
