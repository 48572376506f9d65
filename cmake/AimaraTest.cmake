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
  # gtest_discover_tests (CMake 3.25) splits a list given in PROPERTIES into separate arguments,
  # so only the first label would stick. Set the labels from a script CTest runs after the
  # discovered tests are defined: it sees their names in ${name}_TESTS.
  gtest_discover_tests(${name}
    TEST_LIST ${name}_TESTS
    DISCOVERY_TIMEOUT 60)
  set(labels_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
  file(WRITE "${labels_file}"
    "if(${name}_TESTS)\n"
    "  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${T_LABELS}\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_file}")
endfunction()
