#include "symp/core/process.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>

namespace symp {

void configure_process(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) == 0) {
    ::execv("/proc/self/exe", argv);
    // exec failed (no /proc): carry on with libgomp's default; child processes still get the variable.
  }
  // Setting these fixes them (glibc stops adjusting the threshold dynamically).
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's upper limit on 64-bit
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);   // return heap to the system only above 1 GiB free at the top
  ::mallopt(M_TOP_PAD, 256 << 20);        // grow the heap in large steps
}

}  // namespace symp
