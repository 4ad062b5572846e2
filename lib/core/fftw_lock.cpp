#include "symp/core/fftw_lock.h"

namespace symp {

std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace symp
