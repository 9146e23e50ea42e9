# Engine area: platform, NCCL model, collectives, engine. One executable; bench_engine is a plain
# executable (not a ctest test).
mhc_add_test(test_engine SOURCES test_platform_routes.cpp test_collectives_model.cpp test_engine_basic.cpp
             test_engine_collectives.cpp test_engine_streams.cpp test_engine_fold.cpp
             test_engine_command.cpp)
add_executable(bench_engine bench_engine.cpp)
target_link_libraries(bench_engine PRIVATE mhcsim_core)
