# Pipeline schedules, the task graph built from them, the zero-cost evaluator, traces and the
# `mhcsim schedule` command.
mhc_add_test(test_schedule SOURCES test_schedule_closed_forms.cpp test_schedule_dualpipe.cpp
             test_schedule_inputs.cpp test_dag_checks.cpp)
add_executable(bench_schedule bench_schedule.cpp)
target_link_libraries(bench_schedule PRIVATE mhcsim_core)
