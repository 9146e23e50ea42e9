mhc_add_test(test_foundation SOURCES test_json_input.cpp test_cli_args.cpp)
