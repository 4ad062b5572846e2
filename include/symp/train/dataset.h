#pragma once
// Training sequences from tokenize's encoded JSONL (records {id, text, valence, arousal, input_ids},
// optionally `loss_mask` [per token, 0/1] or `assistant_start` [index of the first assistant token]) and
// the seeded, epoch-aware order in which a rank visits them. No torch here.
#include <cstdint>
#include <string>
#include <vector>

namespace symp::train {

struct Sequence {
  std::string id;
  std::vector<int64_t> ids;
  std::vector<uint8_t> target;  // 1 where the token is predicted in the loss (index 0 is never predicted)
};

// A record longer than max_length: Skip (counted and logged), Truncate, or Error.
enum class Overlong { Skip, Truncate, Error };
// "skip" | "truncate" | "error"; UsageError naming --overlong otherwise.
Overlong parse_overlong(const std::string& name);
std::string overlong_name(Overlong policy);

struct DatasetOptions {
  int64_t max_length = 2048;  // tokens per sequence
  Overlong overlong = Overlong::Skip;
  bool assistant_only = false;  // loss on the assistant part only (needs loss_mask or assistant_start)
  int64_t vocab_size = 0;       // when > 0, an id at or past it is an InputError

  void validate() const;
};

// Reads and checks every record; InputError "file:line: field 'input_ids': ..." for a bad one.
std::vector<Sequence> read_sequences(const std::string& path, const DatasetOptions& options);

// The sequence indices rank `rank` of `world` visits in `epoch`: a permutation seeded by (seed, epoch),
// padded by wrapping to a multiple of `world` and dealt round-robin (torch's DistributedSampler).
std::vector<size_t> epoch_order(size_t count, uint64_t seed, int64_t epoch, int rank = 0, int world = 1);

// `order` rearranged so that each batch of `batch_size` holds sequences of similar length (as transformers'
// group_by_length, with smaller mega-batches and the batches shuffled): cut into mega-batches of 4 batches,
// each sorted longest first and cut into batches; the full batches are then visited in an order seeded by
// (seed, epoch), and a short last batch stays last. Same indices, same count. Small mega-batches keep the
// batches' contents changing from epoch to epoch: sorting 50 batches' worth (transformers' size) nearly
// fixes which sequences share a batch on a corpus of a few hundred.
std::vector<size_t> group_by_length(const std::vector<size_t>& order, const std::vector<size_t>& lengths,
                                    size_t batch_size, uint64_t seed, int64_t epoch);

}  // namespace symp::train
