mhc_add_test(test_run SOURCES test_run_end_to_end.cpp test_run_memory.cpp test_run_tensor_parallel.cpp
             test_sweep.cpp)
