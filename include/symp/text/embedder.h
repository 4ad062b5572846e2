#pragma once
// A sentence embedder: text in, one L2-normalised vector per text out. gen-data's near-duplicate filter
// and the judge's semantic similarity take any implementation: the embedded hashed n-gram default
// (symp/data) or a BERT-family encoder such as all-MiniLM-L6-v2 loaded from its files (symp/nn/bert.h).
#include <string>
#include <vector>

namespace symp::text {

class Embedder {
 public:
  virtual ~Embedder() = default;
  // One row per input, each of length dim(), L2-normalised (an empty text may give a zero row).
  virtual std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) = 0;
  virtual int dim() const = 0;
  // What it is, for datasheets and logs: "all-MiniLM-L6-v2 (BERT, 6 layers, mean pooling)".
  virtual std::string describe() const = 0;
};

}  // namespace symp::text
