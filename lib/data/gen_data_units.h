#pragma once
// gen-data's units of synthesis and the two ways they run in parallel; private to lib/data (gen_data.cpp
// plans and collects, gen_data_runners.cpp runs).
#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "symp/affect/affect.h"
#include "symp/data/gen_data.h"
#include "symp/data/plan.h"
#include "symp/data/speech_backend.h"

namespace symp::data::detail {

// What one unit of synthesis (a query and its pending responses) produced.
struct UnitResult {
  size_t query = 0;
  double query_duration = 0.0;
  std::vector<std::pair<size_t, double>> responses;  // record index, duration in seconds
};

// The work: every query with at least one record missing from the manifest.
struct Work {
  std::vector<size_t> queries;                  // query indices, in plan order
  std::vector<std::vector<size_t>> records_of;  // per query: its pending record indices
  std::vector<std::vector<size_t>> all_of;      // per query: all its record indices
};

struct Context {
  const GenDataOptions& options;
  const CorpusPlan& plan;
  const TtsStyleTable& style;
  const affect::AnchorSet& anchors;
};

// Synthesises a query and the responses `records`. With `reuse_query_audio`, a query file left by an
// interrupted run (complete: files are renamed into place) is reused instead of asked for again.
UnitResult synthesize_unit(const Context& ctx, SpeechBackend& tts, size_t qi,
                           const std::vector<size_t>& records, bool reuse_query_audio);

// Synthesises `work` in `n` forked processes, each with its own espeak-ng engine (the library is a
// process-wide singleton). Results come back over pipes; only this process appends to the manifest.
void run_forked(const Context& ctx, const Work& work, int n,
                const std::function<void(const UnitResult&)>& on_done);

// Synthesises `work` with `n` threads sharing a thread-safe backend (HTTP). A unit that still fails
// after the retries is reported, not thrown: the others go on.
std::vector<std::string> run_threaded(const Context& ctx, const Work& work, int n, SpeechBackend& tts,
                                      const std::function<void(const UnitResult&)>& on_done);

}  // namespace symp::data::detail
