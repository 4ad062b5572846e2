#include "symp/train/dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "symp/core/error.h"
#include "symp/core/log.h"
#include "symp/core/rng.h"
#include "symp/io/jsonl.h"

namespace symp::train {

void DatasetOptions::validate() const {
  if (max_length < 2) throw UsageError(fmt::format("train: max_length = {} must be at least 2", max_length));
  if (overlong != "skip" && overlong != "truncate" && overlong != "error") {
    throw UsageError(fmt::format("train: overlong = '{}': expected skip, truncate or error", overlong));
  }
  if (vocab_size < 0)
    throw UsageError(fmt::format("train: vocab_size = {} must not be negative", vocab_size));
}

std::vector<Sequence> read_sequences(const std::string& path, const DatasetOptions& options) {
  options.validate();
  std::vector<Sequence> out;
  size_t skipped = 0, truncated = 0;
  io::for_each_jsonl(path, [&](const io::Json& record, size_t line) {
    const std::string context = fmt::format("{}:{}", path, line);
    Sequence s;
    s.id = record.contains("id") && record["id"].is_string() ? record["id"].get<std::string>()
                                                             : std::to_string(line);
    const auto& ids = io::require_field(record, "input_ids", context);
    if (!ids.is_array() || ids.size() < 2) {
      throw InputError(
          fmt::format("{}: field 'input_ids': expected an array of at least 2 token ids", context));
    }
    for (const auto& id : ids) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
          (options.vocab_size > 0 && id.get<int64_t>() >= options.vocab_size)) {
        throw InputError(
            fmt::format("{}: field 'input_ids': {} is not a token id{}", context, id.dump(),
                        options.vocab_size > 0 ? fmt::format(" below {}", options.vocab_size) : ""));
      }
      s.ids.push_back(id.get<int64_t>());
    }
    s.target.assign(s.ids.size(), 1);
    s.target[0] = 0;
    if (options.assistant_only) {
      if (record.contains("loss_mask")) {
        const auto& mask = record["loss_mask"];
        if (!mask.is_array() || mask.size() != s.ids.size()) {
          throw InputError(
              fmt::format("{}: field 'loss_mask': expected {} values of 0 or 1", context, s.ids.size()));
        }
        for (size_t i = 1; i < mask.size(); ++i) s.target[i] = mask[i].get<int>() != 0;
      } else if (record.contains("assistant_start")) {
        const auto start = record["assistant_start"];
        if (!start.is_number_integer() || start.get<int64_t>() < 1 ||
            start.get<int64_t>() >= static_cast<int64_t>(s.ids.size())) {
          throw InputError(
              fmt::format("{}: field 'assistant_start': {} is not a token index", context, start.dump()));
        }
        std::fill(s.target.begin(), s.target.begin() + start.get<int64_t>(), 0);
      } else {
        throw InputError(
            fmt::format("{}: assistant-only loss needs a field 'loss_mask' or 'assistant_start'", context));
      }
    }
    if (static_cast<int64_t>(s.ids.size()) > options.max_length) {
      if (options.overlong == "error") {
        throw InputError(fmt::format("{}: record '{}' has {} tokens, over max_length {}", context, s.id,
                                     s.ids.size(), options.max_length));
      }
      if (options.overlong == "skip") {
        ++skipped;
        return;
      }
      s.ids.resize(options.max_length);
      s.target.resize(options.max_length);
      ++truncated;
    }
    out.push_back(std::move(s));
  });
  if (skipped)
    log_warn("train", "{}: skipped {} records over max_length {}", path, skipped, options.max_length);
  if (truncated)
    log_warn("train", "{}: truncated {} records to max_length {}", path, truncated, options.max_length);
  if (out.empty()) throw InputError(path + ": no training sequences");
  return out;
}

std::vector<size_t> epoch_order(size_t count, uint64_t seed, int64_t epoch, int rank, int world) {
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed * 1000003ULL + static_cast<uint64_t>(epoch));
  for (size_t i = count; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);  // Fisher-Yates
  const size_t padded = (count + world - 1) / world * world;
  std::vector<size_t> mine;
  for (size_t i = static_cast<size_t>(rank); i < padded; i += static_cast<size_t>(world)) {
    mine.push_back(order[i % count]);
  }
  return mine;
}

}  // namespace symp::train
