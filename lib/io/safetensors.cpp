#include "symp/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/io/jsonl.h"

namespace symp::io {
namespace {

using Json = nlohmann::json;

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference implementation's limit (100 MB)

struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4},   {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4},   {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::Bool, "BOOL", 1},
};

template <class T>
void convert_all(const TensorView& v, std::vector<T>& out) {
  const auto n = static_cast<size_t>(v.numel());
  out.resize(n);
  const uint8_t* p = v.data;
  auto load = [&](auto tag, size_t i) {
    using S = decltype(tag);
    S s;
    std::memcpy(&s, p + i * sizeof(S), sizeof(S));
    return s;
  };
  for (size_t i = 0; i < n; ++i) {
    switch (v.dtype) {
      case DType::F64:
        out[i] = static_cast<T>(load(double{}, i));
        break;
      case DType::F32:
        out[i] = static_cast<T>(load(float{}, i));
        break;
      case DType::F16:
        out[i] = static_cast<T>(f16_to_f32(load(uint16_t{}, i)));
        break;
      case DType::BF16:
        out[i] = static_cast<T>(bf16_to_f32(load(uint16_t{}, i)));
        break;
      case DType::I64:
        out[i] = static_cast<T>(load(int64_t{}, i));
        break;
      case DType::I32:
        out[i] = static_cast<T>(load(int32_t{}, i));
        break;
      case DType::I16:
        out[i] = static_cast<T>(load(int16_t{}, i));
        break;
      case DType::I8:
        out[i] = static_cast<T>(load(int8_t{}, i));
        break;
      case DType::U8:
        out[i] = static_cast<T>(load(uint8_t{}, i));
        break;
      case DType::Bool:
        out[i] = static_cast<T>(load(uint8_t{}, i) != 0);
        break;
    }
  }
}

}  // namespace

size_t dtype_size(DType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.size;
  }
  return 0;
}

std::string dtype_name(DType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.name;
  }
  return "?";
}

DType parse_dtype(const std::string& name) {
  for (const auto& d : kDTypes) {
    if (name == d.name) return d.dtype;
  }
  throw InputError("unsupported safetensors dtype '" + name + "'");
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string TensorView::shape_string() const {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

std::vector<float> TensorView::to_f32() const {
  std::vector<float> out;
  convert_all(*this, out);
  return out;
}

std::vector<int64_t> TensorView::to_i64() const {
  std::vector<int64_t> out;
  if (dtype == DType::F64 || dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16) {
    // Floating values become integers only when they are whole and in range (a cast of NaN or 1e30 is UB).
    std::vector<double> values;
    convert_all(*this, values);
    out.reserve(values.size());
    for (const double x : values) {
      if (!std::isfinite(x) || std::floor(x) != x || std::fabs(x) >= 9223372036854775808.0)
        throw InputError(fmt::format("{}: tensor '{}' ({}): value {} is not a 64-bit integer", file, name,
                                     dtype_name(dtype), x));
      out.push_back(static_cast<int64_t>(x));
    }
    return out;
  }
  convert_all(*this, out);
  return out;
}

struct SafetensorsFile::Impl {
  std::string path;
  void* map = nullptr;
  size_t map_size = 0;
  std::map<std::string, TensorView> tensors;
  std::map<std::string, std::string> metadata;
  ~Impl() {
    if (map && map != MAP_FAILED) munmap(map, map_size);
  }
};

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  auto impl = std::make_shared<Impl>();
  impl->path = path;
  auto fail = [&](const std::string& what) { return InputError(path + ": " + what); };

  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw fail(std::string("cannot open (") + std::strerror(errno) + ")");
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    throw fail("cannot stat");
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) {
    ::close(fd);
    throw fail(fmt::format("too short for a safetensors file ({} bytes)", file_size));
  }
  impl->map_size = file_size;
  impl->map = mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (impl->map == MAP_FAILED) throw fail("cannot memory-map the file");
  const auto* bytes = static_cast<const uint8_t*>(impl->map);

  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes, 8);
  if (header_len > kMaxHeader || header_len > file_size - 8) {
    throw fail(
        fmt::format("header length {} does not fit in a file of {} bytes (truncated or not safetensors)",
                    header_len, file_size));
  }
  Json header;
  if (json_too_deep(std::string_view(reinterpret_cast<const char*>(bytes + 8), header_len)))
    throw fail("header nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  try {
    header = Json::parse(bytes + 8, bytes + 8 + header_len);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for a number too large
    throw fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) throw fail("header is not a JSON object");

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = file_size - data_start;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  std::vector<std::string> range_names;
  for (const auto& item : header.items()) {
    const std::string& name = item.key();  // not a structured binding: the lambda below captures it
    const Json& entry = item.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) throw fail("__metadata__ is not an object");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) throw fail("__metadata__." + k + " is not a string");
        impl->metadata[k] = v.get<std::string>();
      }
      continue;
    }
    auto tfail = [&](const std::string& what) { return fail("tensor '" + name + "': " + what); };
    if (!entry.is_object()) throw tfail("entry is not an object");
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) throw tfail("missing dtype");
    if (!entry.contains("shape") || !entry["shape"].is_array()) throw tfail("missing shape");
    if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      throw tfail("missing or malformed data_offsets");
    }
    TensorView view;
    view.name = name;
    view.file = path;
    try {
      view.dtype = parse_dtype(entry["dtype"].get<std::string>());
    } catch (const InputError& e) {
      throw tfail(e.what());
    }
    uint64_t numel = 1;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) throw tfail("shape holds a non-integer or negative size");
      const auto dim = d.get<uint64_t>();
      if (dim != 0 && numel > (uint64_t(1) << 62) / dim) throw tfail("shape overflows");
      numel *= dim;
      view.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& offs = entry["data_offsets"];
    if (!offs[0].is_number_unsigned() || !offs[1].is_number_unsigned())
      throw tfail("data_offsets are not integers");
    const auto begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
    if (begin > end || end > data_size) {
      throw tfail(fmt::format("data_offsets [{}, {}] lie outside the data section of {} bytes", begin, end,
                              data_size));
    }
    const uint64_t expected = numel * dtype_size(view.dtype);
    if (end - begin != expected) {
      throw tfail(fmt::format("shape {} x {} needs {} bytes but data_offsets give {}", view.shape_string(),
                              dtype_name(view.dtype), expected, end - begin));
    }
    view.data = bytes + data_start + begin;
    view.nbytes = static_cast<size_t>(end - begin);
    ranges.emplace_back(begin, end);
    range_names.push_back(name);
    impl->tensors.emplace(name, std::move(view));
  }
  // Tensors must not overlap and must cover the data section without holes (as the reference library checks).
  std::vector<size_t> order(ranges.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
  uint64_t cursor = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const auto& [b, e] = ranges[order[k]];
    if (b < cursor) {
      throw fail(
          fmt::format("tensor '{}' overlaps tensor '{}'", range_names[order[k]], range_names[order[k - 1]]));
    }
    if (b > cursor)
      throw fail(fmt::format("a hole of {} bytes precedes tensor '{}'", b - cursor, range_names[order[k]]));
    cursor = e;
  }
  if (cursor != data_size) {
    throw fail(
        fmt::format("the tensors cover {} bytes but the data section has {} (trailing bytes or truncated)",
                    cursor, data_size));
  }
  SafetensorsFile file;
  file.impl_ = std::move(impl);
  return file;
}

bool SafetensorsFile::contains(const std::string& name) const {
  return impl_->tensors.count(name) > 0;
}

const TensorView& SafetensorsFile::get(const std::string& name) const {
  auto it = impl_->tensors.find(name);
  if (it == impl_->tensors.end()) throw InputError(impl_->path + ": no tensor named '" + name + "'");
  return it->second;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& kv : impl_->tensors) out.push_back(kv.first);
  return out;
}

const std::map<std::string, std::string>& SafetensorsFile::metadata() const {
  return impl_->metadata;
}
const std::string& SafetensorsFile::path() const {
  return impl_->path;
}

SafetensorsModel SafetensorsModel::open(const std::string& file_or_dir) {
  SafetensorsModel model;
  const fs::path p(file_or_dir);
  if (!fs::is_directory(p)) {
    model.files_.push_back(SafetensorsFile::open(file_or_dir));
  } else if (fs::exists(p / "model.safetensors.index.json")) {
    const auto index_path = (p / "model.safetensors.index.json").string();
    const Json index = read_json(index_path);  // InputError naming the file for invalid or too deep JSON
    if (!index.contains("weight_map") || !index["weight_map"].is_object()) {
      throw InputError(index_path + ": missing object 'weight_map'");
    }
    std::map<std::string, std::vector<std::string>> by_shard;
    for (const auto& [tensor, shard] : index["weight_map"].items()) {
      if (!shard.is_string()) throw InputError(index_path + ": weight_map." + tensor + " is not a file name");
      // A shard is a file beside the index: no folder part, no "..", no name longer than a file system
      // allows.
      const auto name = shard.get<std::string>();
      if (name.empty() || name.size() > 255 || name == "." || name == ".." ||
          name.find('/') != std::string::npos || name.find('\0') != std::string::npos)
        throw InputError(index_path + ": weight_map." + tensor + ": '" + name.substr(0, 80) +
                         "' is not a file name in the index's folder");
      by_shard[name].push_back(tensor);
    }
    for (auto& [shard, tensors] : by_shard) {
      const auto shard_path = (p / shard).string();
      std::error_code ec;
      if (!fs::exists(shard_path, ec)) throw InputError(index_path + ": shard '" + shard + "' is missing");
      auto file = SafetensorsFile::open(shard_path);
      auto names = file.names();
      std::sort(tensors.begin(), tensors.end());
      if (names != tensors) {
        throw InputError(fmt::format("{}: shard '{}' holds {} tensors where the index assigns it {}",
                                     index_path, shard, names.size(), tensors.size()));
      }
      model.files_.push_back(std::move(file));
    }
  } else if (fs::exists(p / "model.safetensors")) {
    model.files_.push_back(SafetensorsFile::open((p / "model.safetensors").string()));
  } else {
    throw InputError(file_or_dir + ": no model.safetensors or model.safetensors.index.json in this folder");
  }
  for (const auto& file : model.files_) {
    for (const auto& name : file.names()) {
      if (model.index_.count(name))
        throw InputError(file.path() + ": tensor '" + name + "' also appears in another shard");
      model.index_[name] = &file.get(name);
    }
  }
  return model;
}

bool SafetensorsModel::contains(const std::string& name) const {
  return index_.count(name) > 0;
}

const TensorView& SafetensorsModel::get(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) {
    throw InputError(fmt::format("no tensor named '{}' in {}", name,
                                 files_.empty() ? std::string("(no files)") : files_.front().path()));
  }
  return *it->second;
}

std::vector<std::string> SafetensorsModel::names() const {
  std::vector<std::string> out;
  for (const auto& kv : index_) out.push_back(kv.first);
  return out;
}

void SafetensorsWriter::add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                            const void* data, size_t nbytes) {
  int64_t numel = 1;
  for (auto d : shape) {
    if (d < 0) throw RuntimeError("safetensors writer: tensor '" + name + "' has a negative dimension");
    numel *= d;
  }
  if (static_cast<size_t>(numel) * dtype_size(dtype) != nbytes) {
    throw RuntimeError(fmt::format("safetensors writer: tensor '{}' has {} bytes for shape [{}] x {}", name,
                                   nbytes, fmt::join(shape, ", "), dtype_name(dtype)));
  }
  if (name == "__metadata__") throw RuntimeError("safetensors writer: '__metadata__' is reserved");
  Entry entry{dtype, std::move(shape), {}};
  entry.bytes.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + nbytes);
  tensors_[name] = std::move(entry);
}

void SafetensorsWriter::add_f32(const std::string& name, std::vector<int64_t> shape,
                                const std::vector<float>& values) {
  add(name, DType::F32, std::move(shape), values.data(), values.size() * sizeof(float));
}

void SafetensorsWriter::add_i64(const std::string& name, std::vector<int64_t> shape,
                                const std::vector<int64_t>& values) {
  add(name, DType::I64, std::move(shape), values.data(), values.size() * sizeof(int64_t));
}

void SafetensorsWriter::set_metadata(const std::string& key, const std::string& value) {
  metadata_[key] = value;
}

void SafetensorsWriter::write(const std::string& path) const {
  Json header = Json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const auto& [name, entry] : tensors_) {
    header[name] = {{"dtype", dtype_name(entry.dtype)},
                    {"shape", entry.shape},
                    {"data_offsets", {offset, offset + entry.bytes.size()}}};
    offset += entry.bytes.size();
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
  std::string out;
  out.reserve(8 + head.size() + offset);
  const uint64_t len = head.size();
  out.append(reinterpret_cast<const char*>(&len), 8);
  out += head;
  for (const auto& kv : tensors_)
    out.append(reinterpret_cast<const char*>(kv.second.bytes.data()), kv.second.bytes.size());
  write_file_atomic(path, out);
}

float bf16_to_f32(uint16_t bits) {
  uint32_t w = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &w, 4);
  return f;
}

uint16_t f32_to_bf16(float value) {
  uint32_t w;
  std::memcpy(&w, &value, 4);
  if ((w & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((w >> 16) | 0x40);  // quiet NaN
  w += 0x7fffu + ((w >> 16) & 1u);  // round to nearest even
  return static_cast<uint16_t>(w >> 16);
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t w;
  if (exp == 0) {
    if (mant == 0) {
      w = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      w = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    w = sign | 0x7f800000u | (mant << 13);
  } else {
    w = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &w, 4);
  return f;
}

uint16_t f32_to_f16(float value) {
  uint32_t w;
  std::memcpy(&w, &value, 4);
  const uint16_t sign = static_cast<uint16_t>((w >> 16) & 0x8000);
  const uint32_t abs = w & 0x7fffffffu;
  if (abs > 0x7f800000u) return sign | 0x7e00;   // NaN
  if (abs >= 0x477ff000u) return sign | 0x7c00;  // overflow to inf (>= 65520 rounds up)
  if (abs < 0x38800000u) {                       // subnormal or zero in half
    if (abs < 0x33000000u) return sign;
    const uint32_t exp = abs >> 23, mant = (abs & 0x7fffff) | 0x800000;
    const int shift = 126 - int(exp);  // 113 - exp + 13
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1))) ++half;
    return sign | static_cast<uint16_t>(half);
  }
  uint32_t half = ((abs >> 13) - ((127 - 15) << 10));
  const uint32_t rem = abs & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;
  return sign | static_cast<uint16_t>(half);
}

}  // namespace symp::io
