#pragma once
// FFTW's planner (plan creation and destruction) is not thread-safe, across every caller in the process:
// every FFTW user in symp (the prosody features, the embedded codec) plans under this one lock.
#include <mutex>

namespace symp {
std::mutex& fftw_planner_mutex();
}
