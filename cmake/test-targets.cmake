# SPDX-License-Identifier: MIT
# cmake/test-targets.cmake — which build targets the tests of some labels need, so that a
# tree that runs only `ctest -L REGEX` (the sanitizer stages of scripts/test.sh) builds only
# those, not every runner and harness binary. Run in script mode on a configured tree:
#
#   cmake -DBUILD_DIR=<tree> -DLABELS=<regex> -DOUT=<file> -P cmake/test-targets.cmake
#
# It evaluates the tree's CTestTestfile.cmake files (as ctest does, with add_test,
# set_tests_properties and subdirs redefined to record instead of register), keeps the
# tests that ctest -L REGEX would run (a test is kept when one of its labels matches the
# regular expression), and writes to OUT, one per line, every target whose output file
# is named by such a test: a word of its command line, or a path in its REQUIRED_FILES
# property. The output-to-target map is <tree>/gclab-test-targets.map, written at
# generate time by tests/CMakeLists.txt (every executable target: path TAB name).
#
# Invariant: a test whose command line (or REQUIRED_FILES) names every executable of the
# tree it runs gets all of them built. A test that finds a binary some other way (a
# script that looks in a folder) must name it in REQUIRED_FILES. An error, with one
# line (message(FATAL_ERROR): cmake's exit status 1), when no test matches LABELS or the
# tree is not configured.
# No macros; inputs: BUILD_DIR, LABELS, OUT (all required).
cmake_minimum_required(VERSION 3.25)

foreach(v BUILD_DIR LABELS OUT)
  if(NOT DEFINED ${v} OR "${${v}}" STREQUAL "")
    message(FATAL_ERROR "test-targets: -D${v}=... is required (BUILD_DIR, LABELS, OUT)")
  endif()
endforeach()
get_filename_component(BUILD_DIR "${BUILD_DIR}" ABSOLUTE)
set(map_file "${BUILD_DIR}/gclab-test-targets.map")
if(NOT EXISTS "${BUILD_DIR}/CTestTestfile.cmake" OR NOT EXISTS "${map_file}")
  message(FATAL_ERROR "test-targets: ${BUILD_DIR} is not a configured gclab tree (no CTestTestfile.cmake or gclab-test-targets.map): run cmake -S . -B ${BUILD_DIR} first")
endif()

# The recorded tests: GCL_T_NAMES (names in order), GCL_T_<name>_WORDS (the command
# line), GCL_T_<name>_LABELS and GCL_T_<name>_FILES (REQUIRED_FILES), as global properties
# because the recording functions run in the scope of the included files.
set_property(GLOBAL PROPERTY GCL_T_NAMES "")
function(add_test name)
  set_property(GLOBAL APPEND PROPERTY GCL_T_NAMES "${name}")
  set_property(GLOBAL PROPERTY GCL_T_${name}_WORDS "${ARGN}")
endfunction()
function(set_tests_properties name)
  # Arguments: NAME PROPERTIES key value key value ...; ARGV<i> keeps each value whole
  # (a label list "a;b" is one argument). Loop invariant: i indexes a property key.
  math(EXPR last "${ARGC} - 1")
  foreach(i RANGE 2 ${last} 2)
    math(EXPR j "${i} + 1")
    if(j GREATER last)
      break()
    endif()
    if("${ARGV${i}}" STREQUAL "LABELS")
      set_property(GLOBAL PROPERTY GCL_T_${name}_LABELS "${ARGV${j}}")
    elseif("${ARGV${i}}" STREQUAL "REQUIRED_FILES")
      set_property(GLOBAL PROPERTY GCL_T_${name}_FILES "${ARGV${j}}")
    endif()
  endforeach()
endfunction()
function(subdirs dir)
  # CTestTestfile.cmake's subdirs("x"): x's own CTestTestfile.cmake, relative to the file
  # being read (CMAKE_CURRENT_LIST_DIR is the caller's: the including file's folder).
  if(NOT IS_ABSOLUTE "${dir}")
    set(dir "${CMAKE_CURRENT_LIST_DIR}/${dir}")
  endif()
  if(EXISTS "${dir}/CTestTestfile.cmake")
    include("${dir}/CTestTestfile.cmake")
  endif()
endfunction()
include("${BUILD_DIR}/CTestTestfile.cmake")

# The output-to-target map: GCL_M_<path> = target.
file(STRINGS "${map_file}" map_lines)
foreach(line IN LISTS map_lines)
  string(FIND "${line}" "\t" tab)
  if(tab LESS 1)
    continue()
  endif()
  string(SUBSTRING "${line}" 0 ${tab} path)
  math(EXPR from "${tab} + 1")
  string(SUBSTRING "${line}" ${from} -1 target)
  set("GCL_M_${path}" "${target}")
endforeach()

# Loop invariant: targets holds the targets named by the kept tests seen so far, once each.
get_property(names GLOBAL PROPERTY GCL_T_NAMES)
set(targets "")
set(kept 0)
foreach(name IN LISTS names)
  get_property(labels GLOBAL PROPERTY GCL_T_${name}_LABELS)
  set(match FALSE)
  foreach(l IN LISTS labels)
    if(l MATCHES "${LABELS}")
      set(match TRUE)
    endif()
  endforeach()
  if(NOT match)
    continue()
  endif()
  math(EXPR kept "${kept} + 1")
  get_property(words GLOBAL PROPERTY GCL_T_${name}_WORDS)
  get_property(files GLOBAL PROPERTY GCL_T_${name}_FILES)
  foreach(w IN LISTS words files)
    if(DEFINED "GCL_M_${w}")
      list(APPEND targets "${GCL_M_${w}}")
    endif()
  endforeach()
endforeach()
if(kept EQUAL 0)
  message(FATAL_ERROR "test-targets: no test of ${BUILD_DIR} has a label matching '${LABELS}'")
endif()
list(REMOVE_DUPLICATES targets)
list(JOIN targets "\n" text)
file(WRITE "${OUT}" "${text}\n")
list(LENGTH targets ntargets)
message(STATUS "test-targets: ${kept} tests match '${LABELS}'; they need ${ntargets} targets")
