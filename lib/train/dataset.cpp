#include "symp/train/dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "symp/core/error.h"
#include "symp/core/log.h"
#include "symp/core/rng.h"
#include "symp/io/jsonl.h"
#include "symp/records/encoded.h"

namespace symp::train {

Overlong parse_overlong(const std::string& name) {
  if (name == "skip") return Overlong::Skip;
  if (name == "truncate") return Overlong::Truncate;
  if (name == "error") return Overlong::Error;
  throw UsageError(fmt::format("--overlong: '{}': expected skip, truncate or error", name));
}

std::string overlong_name(Overlong policy) {
  return policy == Overlong::Skip ? "skip" : policy == Overlong::Truncate ? "truncate" : "error";
}

void DatasetOptions::validate() const {
  if (max_length < 2) throw UsageError(fmt::format("train: max_length = {} must be at least 2", max_length));
  if (vocab_size < 0)
    throw UsageError(fmt::format("train: vocab_size = {} must not be negative", vocab_size));
}

std::vector<Sequence> read_sequences(const std::string& path, const DatasetOptions& options) {
  options.validate();
  std::vector<Sequence> out;
  size_t skipped = 0, truncated = 0;
  records::for_each_encoded_record(path, [&](const records::EncodedRecord& record, size_t line) {
    const std::string context = fmt::format("{}:{}", path, line);
    Sequence s;
    s.id = !record.id.empty() ? record.id : std::to_string(line);
    for (const int64_t id : record.input_ids) {
      if (id < 0 || (options.vocab_size > 0 && id >= options.vocab_size)) {
        throw InputError(
            fmt::format("{}: field 'input_ids': {} is not a token id{}", context, id,
                        options.vocab_size > 0 ? fmt::format(" below {}", options.vocab_size) : ""));
      }
    }
    s.ids = record.input_ids;
    s.target.assign(s.ids.size(), 1);
    s.target[0] = 0;
    if (options.assistant_only) {
      if (record.loss_mask) {
        for (size_t i = 1; i < s.ids.size(); ++i) s.target[i] = (*record.loss_mask)[i] != 0;
      } else if (record.assistant_start) {
        std::fill(s.target.begin(), s.target.begin() + *record.assistant_start, 0);
      } else {
        throw InputError(
            fmt::format("{}: assistant-only loss needs a field 'loss_mask' or 'assistant_start'", context));
      }
    }
    if (static_cast<int64_t>(s.ids.size()) > options.max_length) {
      if (options.overlong == Overlong::Error) {
        throw InputError(fmt::format("{}: record '{}' has {} tokens, over max_length {}", context, s.id,
                                     s.ids.size(), options.max_length));
      }
      if (options.overlong == Overlong::Skip) {
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
  rng.shuffle(order);
  const size_t padded = (count + world - 1) / world * world;
  std::vector<size_t> mine;
  for (size_t i = static_cast<size_t>(rank); i < padded; i += static_cast<size_t>(world)) {
    mine.push_back(order[i % count]);
  }
  return mine;
}

std::vector<size_t> group_by_length(const std::vector<size_t>& order, const std::vector<size_t>& lengths,
                                    size_t batch_size, uint64_t seed, int64_t epoch) {
  if (batch_size == 0) throw UsageError("group_by_length: batch_size must be positive");
  const size_t mega = 4 * batch_size;
  std::vector<size_t> sorted = order;
  for (size_t begin = 0; begin < sorted.size(); begin += mega) {
    const auto first = sorted.begin() + static_cast<std::ptrdiff_t>(begin);
    const auto last = sorted.begin() + static_cast<std::ptrdiff_t>(std::min(sorted.size(), begin + mega));
    std::stable_sort(first, last, [&](size_t a, size_t b) { return lengths.at(a) > lengths.at(b); });
  }
  const size_t full = sorted.size() / batch_size;
  std::vector<size_t> batches(full);
  std::iota(batches.begin(), batches.end(), 0);
  Rng rng((seed ^ 0x6c656e67746873ULL) * 1000003ULL + static_cast<uint64_t>(epoch));
  rng.shuffle(batches);
  std::vector<size_t> out;
  out.reserve(sorted.size());
  for (const size_t b : batches)
    out.insert(out.end(), sorted.begin() + static_cast<std::ptrdiff_t>(b * batch_size),
               sorted.begin() + static_cast<std::ptrdiff_t>((b + 1) * batch_size));
  out.insert(out.end(), sorted.begin() + static_cast<std::ptrdiff_t>(full * batch_size), sorted.end());
  return out;
}

}  // namespace symp::train
