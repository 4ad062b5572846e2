// The Catch2 main shared by symp_tests and symp_torch_tests. Like the symp binary, a test binary started
// without OMP_WAIT_POLICY starts again with it set to PASSIVE (symp/core/process.h), so what the tests time
// and run matches what users get; ctest sets the variable, so no test pays for the second start.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "symp/core/process.h"

int main(int argc, char** argv) {
  symp::configure_process(argv);
  return Catch::Session().run(argc, argv);
}
