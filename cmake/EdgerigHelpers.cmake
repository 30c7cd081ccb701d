# Shared CMake helpers. No global include paths: every module exposes its own folder to the
# targets that link it, through a per-module include root in the build tree, so that
# `#include "core/model/layer_chain.h"` only resolves where edgerig_core is linked.

# edgerig_expose_headers(<target> <folder>): PUBLIC include root for <folder>'s headers.
# <folder> may be nested (tests/support); an INTERFACE target gets an INTERFACE include root.
function(edgerig_expose_headers target folder)
  set(root ${PROJECT_BINARY_DIR}/include/${folder})
  get_filename_component(parent ${root}/${folder} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  if(NOT EXISTS ${root}/${folder})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${folder} ${root}/${folder} SYMBOLIC)
  endif()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE $<BUILD_INTERFACE:${root}>)
  else()
    target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${root}>)
  endif()
endfunction()

# edgerig_warnings(<target>): the warnings we keep at zero. Plain structs leave trailing members
# to their default member initializers (RunEvent{t, it, device, kind, detail}), so a missing
# initializer is not a mistake here.
function(edgerig_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter
    -Wno-missing-field-initializers)
  if(EDGERIG_ENABLE_ASAN)
    target_compile_options(${target} PRIVATE -fsanitize=address -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address)
  endif()
  if(EDGERIG_ENABLE_UBSAN)
    # No recovery: a finding fails the test that made it, not just a line in its log.
    target_compile_options(${target} PRIVATE -fsanitize=undefined -fno-sanitize-recover=undefined
      -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=undefined -fno-sanitize-recover=undefined)
  endif()
endfunction()

# edgerig_torch_pch(<target>): precompiled torch header, shared by every torch target.
function(edgerig_torch_pch target)
  if(NOT TARGET edgerig_torch_pch_host)
    add_library(edgerig_torch_pch_host STATIC ${PROJECT_SOURCE_DIR}/cmake/torch_pch.cpp)
    edgerig_warnings(edgerig_torch_pch_host)
    target_link_libraries(edgerig_torch_pch_host PUBLIC torch)
    target_precompile_headers(edgerig_torch_pch_host PUBLIC <torch/torch.h>)
  endif()
  target_precompile_headers(${target} REUSE_FROM edgerig_torch_pch_host)
endfunction()

# Tests find the agent binary and the source tree through EDGERIG_AGENT and EDGERIG_SOURCE_DIR.
# edgerig_add_test(NAME <name> SOURCES <src...> LIBS <lib...> [LABELS <l...>] [TIMEOUT <s>]
#                  [TORCH] [QT])
# One executable per unit, registered with CTest. Plain (non-Qt) tests use GoogleTest.
function(edgerig_add_test)
  cmake_parse_arguments(T "TORCH;QT" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  edgerig_warnings(${T_NAME})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} edgerig_test_support)
  if(NOT T_QT)
    target_link_libraries(${T_NAME} PRIVATE GTest::gtest GTest::gtest_main)
  endif()
  if(T_TORCH)
    edgerig_torch_pch(${T_NAME})
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  # Every test's temporary files go to one folder of the build tree, which the `leftovers`
  # fixture (tests/CMakeLists.txt) empties before the suite and checks is empty after it.
  set(env "QT_QPA_PLATFORM=offscreen;EDGERIG_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
    "TMPDIR=${EDGERIG_TEST_TMPDIR}" "XDG_RUNTIME_DIR=${EDGERIG_TEST_TMPDIR}-runtime")
  if(TARGET edgerig-agent)
    list(APPEND env "EDGERIG_AGENT=$<TARGET_FILE:edgerig-agent>")
    # Bridge tests need no agent (nor torch): scripts/sanitize.sh builds them alone.
    if(NOT "bridge" IN_LIST T_LABELS)
      add_dependencies(${T_NAME} edgerig-agent)
    endif()
  endif()
  if(TARGET edgerig-run)
    list(APPEND env "EDGERIG_RUN=$<TARGET_FILE:edgerig-run>")
  endif()
  if(TARGET edgerig)
    list(APPEND env "EDGERIG_GUI=$<TARGET_FILE:edgerig>")
  endif()
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}"
    ENVIRONMENT "${env}" FIXTURES_REQUIRED leftovers)
endfunction()
