mhc_add_test(test_scenario SOURCES test_io_table.cpp test_scenario_errors.cpp test_model_params.cpp
             test_shipped_scenarios.cpp)
add_dependencies(test_scenario mhcsim)
