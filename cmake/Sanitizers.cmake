# Sanitizer builds: CAUSEWAY_SANITIZE instruments every target of this project (compile and
# link); Debian's libraries (CAF, rabbitmq-c, libuv, spdlog, ...) stay as they are.
#   cmake -S . -B build-asan -G Ninja -DCAUSEWAY_SANITIZE=address,undefined
#   cmake -S . -B build-tsan -G Ninja -DCAUSEWAY_SANITIZE=thread
# Any finding ends the process with a non-zero exit code (-fno-sanitize-recover=all), so the
# test that caused it fails. Tests get the runtime options below through ctest's ENVIRONMENT
# (CAUSEWAY_SANITIZER_ENV); the programs the end-to-end tests start inherit them.
# Without a build type, a sanitizer build uses -Og -g1: line numbers in the reports, code fast
# enough for the tests' timeouts, and half the compile time of -O1 -g (ASan+UBSan at -O1 and up
# cost 2-5x a Release compile here, at -Og about 1.3x).

set(CAUSEWAY_SANITIZE "" CACHE STRING
  "Sanitizers for the project's targets: address,undefined or thread (empty: none)")
set(CAUSEWAY_SANITIZER_ENV "")

if(NOT CAUSEWAY_SANITIZE)
  return()
endif()

string(REPLACE "," ";" causeway_sanitizers "${CAUSEWAY_SANITIZE}")
foreach(sanitizer IN LISTS causeway_sanitizers)
  if(NOT sanitizer MATCHES "^(address|undefined|thread)$")
    message(FATAL_ERROR "CAUSEWAY_SANITIZE: unknown sanitizer \"${sanitizer}\"; "
      "use address,undefined or thread")
  endif()
endforeach()
if("address" IN_LIST causeway_sanitizers AND "thread" IN_LIST causeway_sanitizers)
  message(FATAL_ERROR "CAUSEWAY_SANITIZE: address and thread cannot be combined")
endif()

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  add_compile_options(-Og -g1)
endif()
add_compile_options(-fsanitize=${CAUSEWAY_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
add_link_options(-fsanitize=${CAUSEWAY_SANITIZE})
# Executables not position-independent: ASan's and UBSan's metadata (tens of MB of pointers in
# .data) then needs no relocation at load, so a test process starts in half the time (0.13
# instead of 0.26 CPU-s for telluride_daemon_unit; ctest starts one per test case, ~700 in CI).
add_link_options($<$<STREQUAL:$<TARGET_PROPERTY:TYPE>,EXECUTABLE>:-no-pie>)

# The runtime options: stop at the first report, with a stack, and fail the process with exit
# code 66 (no program of ours uses it). GCC's runtimes symbolise the stacks themselves: no
# llvm-symbolizer is needed.
set(suppressions ${CMAKE_CURRENT_LIST_DIR}/sanitizers)
set(common_options "halt_on_error=1:print_stacktrace=1:abort_on_error=0:exitcode=66")
if("address" IN_LIST causeway_sanitizers)
  list(APPEND CAUSEWAY_SANITIZER_ENV
    "ASAN_OPTIONS=${common_options}:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1"
    "LSAN_OPTIONS=suppressions=${suppressions}/lsan.supp:print_suppressions=0")
endif()
if("undefined" IN_LIST causeway_sanitizers)
  list(APPEND CAUSEWAY_SANITIZER_ENV "UBSAN_OPTIONS=${common_options}")
endif()
if("thread" IN_LIST causeway_sanitizers)
  list(APPEND CAUSEWAY_SANITIZER_ENV
    "TSAN_OPTIONS=${common_options}:second_deadlock_stack=1:suppressions=${suppressions}/tsan.supp")
endif()
message(STATUS "Sanitizers: ${CAUSEWAY_SANITIZE}")
