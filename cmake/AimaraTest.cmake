# aimara_add_test(NAME SOURCES a.cpp ... LIBS lib ... LABELS unit ...)
# One GoogleTest executable; each test case is registered with CTest and carries the labels.
function(aimara_add_test name)
  if(NOT AIMARA_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_compile_options(${name} PRIVATE ${AIMARA_WARNINGS})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name} PRIVATE
    AIMARA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    AIMARA_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared"
    AIMARA_BINARY="$<TARGET_FILE:aimara>")
  # Tests may run the binary (AIMARA_BINARY): build it first.
  add_dependencies(${name} aimara)
  # A list inside PROPERTIES must keep its semicolons escaped, or only the first label sticks.
  string(REPLACE ";" "\\;" labels "${T_LABELS}")
  gtest_discover_tests(${name}
    PROPERTIES LABELS "${labels}"
    DISCOVERY_TIMEOUT 60)
endfunction()
