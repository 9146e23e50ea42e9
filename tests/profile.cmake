# Profiles (issue 4): schema reader/writer, cost lookup, leave-one-out and byte checks over the
# committed profiles, profile-info, profile-merge, and mhc-profile's CPU side (profiles/profile_builder.cpp).
mhc_add_test(test_profile
  SOURCES test_profile_load.cpp test_profile_write.cpp test_profile_reference.cpp test_cost_lookup.cpp
          test_profile_committed.cpp test_profile_info.cpp test_profile_builder.cpp
          test_profile_sweep.cpp test_profile_measured_io.cpp test_profile_merge.cpp)
target_link_libraries(test_profile PRIVATE mhc_profile_cpu)

# profiles/attention/measure_attention.py's plain-Python parts (shapes from the model files, the
# simulator's FLOP and byte counts, the profile it writes, read back by mhcsim). Not registered
# where there is no python3.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  add_test(NAME ProfileAttentionScript COMMAND ${Python3_EXECUTABLE} -m unittest -v test_measure_attention
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/profiles/attention)
  set_tests_properties(ProfileAttentionScript PROPERTIES
                       ENVIRONMENT "MHCSIM=$<TARGET_FILE:mhcsim>;PYTHONDONTWRITEBYTECODE=1")
else()
  message(STATUS "ProfileAttentionScript: not registered (no python3)")
endif()
