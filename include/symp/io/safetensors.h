#pragma once
// safetensors (https://huggingface.co/docs/safetensors) read and write. Reading memory-maps the file and
// validates it strictly: header length and JSON, known dtype, shape x dtype size == byte range, every
// range inside the data section and no two overlapping. Sharded checkpoints (model.safetensors.index.json)
// read as one set of tensors. No torch here: nn/tensor_io.h turns views into tensors.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace symp::io {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

size_t dtype_size(DType dtype);
std::string dtype_name(DType dtype);  // "F32", "BF16", ...
DType parse_dtype(const std::string& name);  // InputError for unknown names

// A tensor inside a mapped file; valid while its file (or model) object lives.
struct TensorView {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  std::string file;  // the file it lives in, for error messages

  int64_t numel() const;
  std::string shape_string() const;  // "[2, 3]"
  // Converts any floating or integer dtype to float32 (bf16/f16 exactly).
  std::vector<float> to_f32() const;
  std::vector<int64_t> to_i64() const;
};

class SafetensorsFile {
 public:
  // Maps and validates `path`; InputError naming the file and the offending tensor or header field.
  static SafetensorsFile open(const std::string& path);

  bool contains(const std::string& name) const;
  // InputError naming the file and tensor when absent.
  const TensorView& get(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  const std::map<std::string, std::string>& metadata() const;
  const std::string& path() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// One checkpoint that may span several files: a single .safetensors file, a folder with
// model.safetensors, or a folder with model.safetensors.index.json and its shards (every shard the index
// names must exist and hold exactly the tensors the index assigns it).
class SafetensorsModel {
 public:
  static SafetensorsModel open(const std::string& file_or_dir);
  bool contains(const std::string& name) const;
  const TensorView& get(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::vector<SafetensorsFile>& files() const { return files_; }

 private:
  std::vector<SafetensorsFile> files_;
  std::map<std::string, const TensorView*> index_;
};

// Collects tensors and writes them in one file, atomically. Tensors are stored in name order.
class SafetensorsWriter {
 public:
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape, const void* data, size_t nbytes);
  void add_f32(const std::string& name, std::vector<int64_t> shape, const std::vector<float>& values);
  void add_i64(const std::string& name, std::vector<int64_t> shape, const std::vector<int64_t>& values);
  void set_metadata(const std::string& key, const std::string& value);
  void write(const std::string& path) const;
  size_t size() const { return tensors_.size(); }

 private:
  struct Entry {
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::map<std::string, Entry> tensors_;
  std::map<std::string, std::string> metadata_;
};

float bf16_to_f32(uint16_t bits);
float f16_to_f32(uint16_t bits);
uint16_t f32_to_bf16(float value);  // round to nearest even
uint16_t f32_to_f16(float value);

}  // namespace symp::io
