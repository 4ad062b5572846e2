// The Catch2 main shared by symp_tests and symp_torch_tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
