#pragma once
// safetensors <-> torch tensors. Includes torch: use it from symp_torch sources only.
#include <torch/torch.h>

#include <map>
#include <string>

#include "symp/io/safetensors.h"

namespace symp::nn {

torch::ScalarType to_torch_dtype(io::DType dtype);
io::DType from_torch_dtype(torch::ScalarType dtype);

// Copies a view into a new tensor of the view's dtype (or `as` when given) on the CPU.
torch::Tensor to_tensor(const io::TensorView& view);
torch::Tensor to_tensor(const io::TensorView& view, torch::ScalarType as);

// Adds a tensor (moved to CPU, made contiguous) to a writer.
void add_tensor(io::SafetensorsWriter& writer, const std::string& name, const torch::Tensor& tensor);

// Writes named tensors as one safetensors file, atomically.
void save_tensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                  const std::map<std::string, std::string>& metadata = {});
// Reads every tensor of a file or sharded folder.
std::map<std::string, torch::Tensor> load_tensors(const std::string& file_or_dir);

}  // namespace symp::nn
