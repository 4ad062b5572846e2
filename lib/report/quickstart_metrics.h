#pragma once
// The quickstart's figures as one JSON file (report.json, internal to lib/report): for each system the
// condition probe, cross-emotion ROUGE-L with a bootstrap interval over queries, the prosody correlations
// and the fluency of the replies; the corpus's own figures as the ceiling; and issue 17's criteria, each
// with its value and whether it holds. Missing inputs leave their fields null.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "symp/core/fs.h"
#include "symp/io/jsonl.h"

namespace symp::report {

// Reads the stages' outputs under `run` (probe/, judge/, prosody/, replies/, corpus/, corpus_ceiling/).
io::Json quickstart_metrics(const fs::path& run);

// Bootstrap percentile 95 % interval of the mean of `values` (resampled with replacement, seeded);
// {NaN, NaN} for fewer than two values.
std::pair<double, double> bootstrap_mean_ci95(const std::vector<double>& values, uint64_t seed = 42,
                                              int resamples = 2000);

// The number at `path` (object keys) under `j`, or NaN when a key is missing or the value is not a number.
double json_number_at(const io::Json& j, std::initializer_list<const char*> path);

// Word bigrams of a text, in order: words as ROUGE splits them (lower-cased runs of letters and digits).
std::vector<std::string> word_bigrams(const std::string& text);

}  // namespace symp::report
