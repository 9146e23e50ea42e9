# Profiles (issue 4): schema reader/writer, cost lookup, leave-one-out and byte checks over the
# committed profiles, profile-info, profile-merge, and mhc-profile's CPU side (profiles/profile_builder.cpp).
mhc_add_test(test_profile
  SOURCES test_profile_load.cpp test_profile_write.cpp test_profile_reference.cpp test_cost_lookup.cpp
          test_profile_committed.cpp test_profile_info.cpp test_profile_builder.cpp
          test_profile_sweep.cpp test_profile_measured_io.cpp test_profile_merge.cpp)
target_link_libraries(test_profile PRIVATE mhc_profile_cpu)
