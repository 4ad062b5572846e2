#include "symp/nn/tensor_io.h"

#include "symp/core/error.h"

namespace symp::nn {

torch::ScalarType to_torch_dtype(io::DType dtype) {
  switch (dtype) {
    case io::DType::F64: return torch::kFloat64;
    case io::DType::F32: return torch::kFloat32;
    case io::DType::F16: return torch::kFloat16;
    case io::DType::BF16: return torch::kBFloat16;
    case io::DType::I64: return torch::kInt64;
    case io::DType::I32: return torch::kInt32;
    case io::DType::I16: return torch::kInt16;
    case io::DType::I8: return torch::kInt8;
    case io::DType::U8: return torch::kUInt8;
    case io::DType::Bool: return torch::kBool;
  }
  throw RuntimeError("unsupported dtype");
}

io::DType from_torch_dtype(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat64: return io::DType::F64;
    case torch::kFloat32: return io::DType::F32;
    case torch::kFloat16: return io::DType::F16;
    case torch::kBFloat16: return io::DType::BF16;
    case torch::kInt64: return io::DType::I64;
    case torch::kInt32: return io::DType::I32;
    case torch::kInt16: return io::DType::I16;
    case torch::kInt8: return io::DType::I8;
    case torch::kUInt8: return io::DType::U8;
    case torch::kBool: return io::DType::Bool;
    default: break;
  }
  throw RuntimeError(std::string("cannot store torch dtype ") + c10::toString(dtype) + " in safetensors");
}

torch::Tensor to_tensor(const io::TensorView& view) {
  auto options = torch::TensorOptions().dtype(to_torch_dtype(view.dtype));
  auto out = torch::empty(view.shape, options);
  if (view.nbytes) std::memcpy(out.data_ptr(), view.data, view.nbytes);
  return out;
}

torch::Tensor to_tensor(const io::TensorView& view, torch::ScalarType as) { return to_tensor(view).to(as); }

void add_tensor(io::SafetensorsWriter& writer, const std::string& name, const torch::Tensor& tensor) {
  auto t = tensor.detach().to(torch::kCPU).contiguous();
  writer.add(name, from_torch_dtype(t.scalar_type()), t.sizes().vec(), t.data_ptr(),
             static_cast<size_t>(t.numel()) * t.element_size());
}

void save_tensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                  const std::map<std::string, std::string>& metadata) {
  io::SafetensorsWriter writer;
  for (const auto& [name, t] : tensors) add_tensor(writer, name, t);
  for (const auto& [k, v] : metadata) writer.set_metadata(k, v);
  writer.write(path);
}

std::map<std::string, torch::Tensor> load_tensors(const std::string& file_or_dir) {
  auto model = io::SafetensorsModel::open(file_or_dir);
  std::map<std::string, torch::Tensor> out;
  for (const auto& name : model.names()) out[name] = to_tensor(model.get(name));
  return out;
}

}  // namespace symp::nn
