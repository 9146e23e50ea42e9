# Writes build_info.cpp (the version and the git commit) at build time: `cmake -P` with SOURCE_DIR,
# TEMPLATE, OUT and VERSION. configure_file rewrites OUT only when its text changes, so an unchanged
# commit recompiles nothing.
set(MHC_VERSION "${VERSION}")
set(MHC_COMMIT "unknown (not a git checkout)")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" rev-parse HEAD
                  OUTPUT_VARIABLE head RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(rc EQUAL 0 AND head MATCHES "^[0-9a-f]+$")
    set(MHC_COMMIT "${head}")
    # Tracked files changed since that commit: the build is not exactly the commit.
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE changes RESULT_VARIABLE rc2 ERROR_QUIET)
    if(rc2 EQUAL 0 AND NOT changes STREQUAL "")
      string(APPEND MHC_COMMIT "-dirty")
    endif()
  endif()
endif()
configure_file("${TEMPLATE}" "${OUT}" @ONLY)
