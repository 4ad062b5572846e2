#pragma once
// Fixture access shared by the GLM and LoRA tests: the reference ids and logits of tests/fixtures/.
#include <filesystem>
#include <string>
#include <vector>

#include "../test_util.h"
#include "symp/io/jsonl.h"
#include "symp/nn/tensor_io.h"

namespace symp::test::glm {

namespace fs = std::filesystem;
inline const std::string kFixtures = fixtures_dir() + "/";

// glm_ids.json as a [1, T] int64 tensor.
inline torch::Tensor fixture_ids() {
  auto json = symp::io::read_json(kFixtures + "glm_ids.json");
  return torch::tensor(json["input_ids"].get<std::vector<int64_t>>(), torch::kInt64).unsqueeze(0);
}

// The `logits` tensor of a fixture file.
inline torch::Tensor fixture_logits(const std::string& file) {
  return symp::nn::load_tensors(kFixtures + file).at("logits");
}

// max |got - want| / max |want|.
inline double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  return (got - want).abs().max().item<double>() / want.abs().max().item<double>();
}

// A fresh empty folder <tmp>/symp_test_<prefix>_<name> (kept after the test, for inspection).
inline fs::path scratch(const std::string& prefix, const std::string& name) {
  auto dir = fs::temp_directory_path() / ("symp_test_" + prefix + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace symp::test::glm
