// PyTorch checkpoint archives and strict weight loading for the GLM-4-Voice models.
#include "symp/speech/glm4voice_checkpoint.h"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <set>
#include <variant>
#include <vector>

#include "symp/core/error.h"
#include "symp/nn/tensor_io.h"

namespace symp::speech {
namespace {

// A value on the unpickler's stack. Only what state dicts contain.
struct Value;
using ValuePtr = std::shared_ptr<Value>;
struct Global {
  std::string module, name;
};
struct Mark {};
struct None {};
struct Storage {
  torch::Tensor flat;  // 1-D tensor over the whole storage record
};
using Items = std::vector<ValuePtr>;
struct Tuple {
  Items items;
};
struct List {
  Items items;
};
struct Dict {
  std::vector<std::pair<ValuePtr, ValuePtr>> items;
};
struct Value {
  std::variant<None, Mark, bool, int64_t, double, std::string, Global, Tuple, List, Dict, Storage,
               torch::Tensor>
      v;
};

ValuePtr make(decltype(Value::v) v) {
  auto p = std::make_shared<Value>();
  p->v = std::move(v);
  return p;
}

torch::ScalarType storage_dtype(const std::string& name, const std::string& file) {
  static const std::map<std::string, torch::ScalarType> kinds = {
      {"FloatStorage", torch::kFloat32}, {"DoubleStorage", torch::kFloat64},
      {"HalfStorage", torch::kFloat16},  {"BFloat16Storage", torch::kBFloat16},
      {"LongStorage", torch::kInt64},    {"IntStorage", torch::kInt32},
      {"ShortStorage", torch::kInt16},   {"CharStorage", torch::kInt8},
      {"ByteStorage", torch::kUInt8},    {"BoolStorage", torch::kBool}};
  auto it = kinds.find(name);
  if (it == kinds.end()) throw InputError(file + ": unsupported storage type torch." + name);
  return it->second;
}

class Unpickler {
 public:
  Unpickler(caffe2::serialize::PyTorchStreamReader& reader, const std::string& file, const uint8_t* data,
            size_t size)
      : reader_(reader), file_(file), p_(data), end_(data + size) {}

  ValuePtr run() {
    for (;;) {
      uint8_t op = byte();
      switch (op) {
        case 0x80:
          byte();
          break;  // PROTO
        case 0x95:
          bytes(8);
          break;  // FRAME
        case '.':
          return pop();  // STOP
        case '(':
          stack_.push_back(make(Mark{}));
          break;  // MARK
        case 'N':
          stack_.push_back(make(None{}));
          break;  // NONE
        case 0x88:
          stack_.push_back(make(true));
          break;  // NEWTRUE
        case 0x89:
          stack_.push_back(make(false));
          break;  // NEWFALSE
        case 'K':
          stack_.push_back(make(int64_t(byte())));
          break;  // BININT1
        case 'M':
          stack_.push_back(make(int64_t(uint16())));
          break;  // BININT2
        case 'J':
          stack_.push_back(make(int64_t(int32_t(uint32()))));
          break;
        case 0x8a: {  // LONG1: little-endian two's complement
          int n = byte();
          if (n > 8)
            throw InputError(file_ + ": data.pkl: an integer of " + std::to_string(n) +
                             " bytes (at most 8 fit)");
          int64_t v = 0;
          for (int i = 0; i < n; ++i) v |= int64_t(byte()) << (8 * i);
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v -= int64_t(1) << (8 * n);
          stack_.push_back(make(v));
          break;
        }
        case 'G': {  // BINFLOAT, big-endian
          uint64_t bits = 0;
          for (int i = 0; i < 8; ++i) bits = (bits << 8) | byte();
          double d;
          std::memcpy(&d, &bits, 8);
          stack_.push_back(make(d));
          break;
        }
        case 'X':
          stack_.push_back(make(bytes(uint32())));
          break;  // BINUNICODE
        case 0x8c:
          stack_.push_back(make(bytes(byte())));
          break;     // SHORT_BINUNICODE
        case 'c': {  // GLOBAL
          std::string module = line(), name = line();
          stack_.push_back(make(Global{module, name}));
          break;
        }
        case 'q':
          memo_[byte()] = top();
          break;  // BINPUT
        case 'r':
          memo_[uint32()] = top();
          break;  // LONG_BINPUT
        case 0x94:
          memo_[memo_.size()] = top();
          break;  // MEMOIZE
        case 'h':
          stack_.push_back(memo(byte()));
          break;
        case 'j':
          stack_.push_back(memo(uint32()));
          break;
        case ')':
          stack_.push_back(make(Tuple{}));
          break;
        case 0x85:
          stack_.push_back(make(Tuple{pop_n(1)}));
          break;
        case 0x86:
          stack_.push_back(make(Tuple{pop_n(2)}));
          break;
        case 0x87:
          stack_.push_back(make(Tuple{pop_n(3)}));
          break;
        case 't':
          stack_.push_back(make(Tuple{pop_mark()}));
          break;
        case ']':
          stack_.push_back(make(List{}));
          break;
        case 'l':
          stack_.push_back(make(List{pop_mark()}));
          break;
        case 'a': {
          auto v = pop();
          as<List>(top(), "APPEND").items.push_back(v);
          break;
        }
        case 'e': {
          auto vs = pop_mark();
          auto& l = as<List>(top(), "APPENDS");
          l.items.insert(l.items.end(), vs.begin(), vs.end());
          break;
        }
        case '}':
          stack_.push_back(make(Dict{}));
          break;
        case 's': {
          auto v = pop();
          auto k = pop();
          as<Dict>(top(), "SETITEM").items.emplace_back(k, v);
          break;
        }
        case 'u': {
          auto vs = pop_mark();
          auto& d = as<Dict>(top(), "SETITEMS");
          for (size_t i = 0; i + 1 < vs.size(); i += 2) d.items.emplace_back(vs[i], vs[i + 1]);
          break;
        }
        case 'b':
          pop();
          break;  // BUILD: a state dict's `_metadata` attribute, not needed
        case 'Q':
          stack_.push_back(persistent_load(pop()));
          break;     // BINPERSID
        case 'R': {  // REDUCE
          auto args = pop();
          auto fn = pop();
          stack_.push_back(reduce(as<Global>(fn, "REDUCE"), as<Tuple>(args, "REDUCE").items));
          break;
        }
        default:
          throw InputError(file_ + ": data.pkl: unsupported pickle opcode 0x" + hex(op) +
                           " (not a plain state dict?)");
      }
    }
  }

 private:
  [[noreturn]] void truncated() { throw InputError(file_ + ": data.pkl is truncated"); }
  uint8_t byte() {
    if (p_ >= end_) truncated();
    return *p_++;
  }
  uint16_t uint16() {
    const uint16_t low = byte();  // two statements: the operands of | are unsequenced
    return uint16_t(low | (byte() << 8));
  }
  uint32_t uint32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t(byte()) << (8 * i);
    return v;
  }
  std::string bytes(size_t n) {
    if (size_t(end_ - p_) < n) truncated();
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  std::string line() {
    std::string s;
    for (uint8_t c = byte(); c != '\n'; c = byte()) s += char(c);
    return s;
  }
  static std::string hex(uint8_t v) {
    const char* d = "0123456789abcdef";
    return {d[v >> 4], d[v & 15]};
  }
  ValuePtr top() {
    if (stack_.empty()) throw InputError(file_ + ": data.pkl: stack underflow");
    return stack_.back();
  }
  ValuePtr pop() {
    auto v = top();
    stack_.pop_back();
    return v;
  }
  Items pop_n(size_t n) {
    if (stack_.size() < n) throw InputError(file_ + ": data.pkl: stack underflow");
    Items items(stack_.end() - long(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return items;
  }
  Items pop_mark() {
    size_t i = stack_.size();
    while (i > 0 && !std::holds_alternative<Mark>(stack_[i - 1]->v)) --i;
    if (i == 0) throw InputError(file_ + ": data.pkl: MARK missing");
    Items items(stack_.begin() + long(i), stack_.end());
    stack_.resize(i - 1);
    return items;
  }
  ValuePtr memo(size_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end())
      throw InputError(file_ + ": data.pkl: memo entry " + std::to_string(key) + " missing");
    return it->second;
  }
  template <class T>
  T& as(const ValuePtr& v, const char* what) {
    if (auto* p = std::get_if<T>(&v->v)) return *p;
    throw InputError(file_ + ": data.pkl: unexpected value type at " + what);
  }
  int64_t as_int(const ValuePtr& v) { return as<int64_t>(v, "an integer field"); }
  std::vector<int64_t> int_tuple(const ValuePtr& v) {
    std::vector<int64_t> out;
    for (auto& item : as<Tuple>(v, "a shape").items) out.push_back(as_int(item));
    return out;
  }

  // ('storage', torch.FloatStorage, key, location, numel) -> the storage record data/<key>.
  ValuePtr persistent_load(const ValuePtr& pid) {
    auto& t = as<Tuple>(pid, "BINPERSID").items;
    if (t.size() < 5 || as<std::string>(t[0], "BINPERSID") != "storage")
      throw InputError(file_ + ": data.pkl: unsupported persistent id");
    auto dtype = storage_dtype(as<Global>(t[1], "storage type").name, file_);
    std::string key = as<std::string>(t[2], "storage key");
    auto it = storages_.find(key);
    if (it == storages_.end()) {
      auto numel = as_int(t[4]);
      at::DataPtr data;
      size_t size = 0;
      try {
        std::tie(data, size) = reader_.getRecord("data/" + key);
      } catch (const std::exception& e) {
        throw InputError(file_ + ": storage record data/" + key + " missing: " + e.what());
      }
      auto flat = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
      if (size < size_t(flat.nbytes()))
        throw InputError(file_ + ": storage data/" + key + " holds " + std::to_string(size) + " bytes, " +
                         std::to_string(flat.nbytes()) + " expected");
      if (flat.nbytes() > 0)
        std::memcpy(flat.data_ptr(), data.get(), flat.nbytes());  // empty: data may be null
      it = storages_.emplace(key, make(Storage{flat})).first;
    }
    return it->second;
  }

  ValuePtr reduce(const Global& fn, const Items& args) {
    const std::string name = fn.module + "." + fn.name;
    if (name == "collections.OrderedDict") return make(Dict{});
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (args.size() < 4) throw InputError(file_ + ": data.pkl: short " + name + " call");
      auto& flat = as<Storage>(args[0], "tensor storage").flat;
      auto offset = as_int(args[1]);
      auto size = int_tuple(args[2]), stride = int_tuple(args[3]);
      return make(flat.as_strided(size, stride, offset).clone());
    }
    if (name == "torch._utils._rebuild_parameter") {
      if (args.empty()) throw InputError(file_ + ": data.pkl: short " + name + " call");
      return make(as<torch::Tensor>(args[0], "parameter data"));
    }
    throw InputError(file_ + ": data.pkl: unsupported object " + name + " (not a plain state dict?)");
  }

  caffe2::serialize::PyTorchStreamReader& reader_;
  std::string file_;
  const uint8_t* p_;
  const uint8_t* end_;
  std::vector<ValuePtr> stack_;
  std::map<size_t, ValuePtr> memo_;
  std::map<std::string, ValuePtr> storages_;
};

void flatten(const ValuePtr& value, const std::string& prefix, StateDict& out, const std::string& file) {
  if (auto* t = std::get_if<torch::Tensor>(&value->v)) {
    out[prefix] = *t;
    return;
  }
  if (auto* d = std::get_if<Dict>(&value->v)) {
    for (auto& [k, v] : d->items) {
      auto* key = std::get_if<std::string>(&k->v);
      if (!key) throw InputError(file + ": a dict key is not a string");
      flatten(v, prefix.empty() ? *key : prefix + "." + *key, out, file);
    }
    return;
  }
  // Non-tensor entries (epoch counters, hyper-parameters) are no weights: left out.
}

}  // namespace

namespace {

// The first line of a library's message (c10::Error appends a backtrace), at most 200 characters.
std::string first_line(const char* what) {
  const std::string s(what);
  return s.substr(0, std::min<size_t>(s.find('\n'), 200));
}

}  // namespace

StateDict read_torch_checkpoint(const std::string& path) {
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const std::exception& e) {
    throw InputError(path + ": not a PyTorch checkpoint archive (torch.save zip): " + first_line(e.what()));
  }
  try {
    if (!reader->hasRecord("data.pkl")) throw InputError(path + ": data.pkl missing in the archive");
    auto [data, size] = reader->getRecord("data.pkl");
    Unpickler unpickler(*reader, path, static_cast<const uint8_t*>(data.get()), size);
    StateDict out;
    flatten(unpickler.run(), "", out, path);
    if (out.empty()) throw InputError(path + ": the checkpoint holds no tensors");
    return out;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // the zip reader or torch refusing a damaged record or tensor
    throw InputError(path + ": damaged PyTorch checkpoint archive: " + first_line(e.what()));
  }
}

StateDict read_checkpoint(const std::string& path) {
  auto ends_with = [&](const std::string& s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".safetensors")) return nn::load_tensors(path);
  return read_torch_checkpoint(path);
}

void fold_weight_norm(StateDict& tensors) {
  struct Pair {
    std::string base, g, v;
  };
  // (suffix of g, suffix of v): torch.nn.utils.weight_norm and its parametrizations form.
  const std::pair<std::string, std::string> forms[] = {
      {".weight_g", ".weight_v"},
      {".parametrizations.weight.original0", ".parametrizations.weight.original1"}};
  std::vector<Pair> pairs;
  for (auto& entry : tensors) {
    const std::string& name = entry.first;
    for (auto& [gs, vs] : forms) {
      if (name.size() <= gs.size() || name.compare(name.size() - gs.size(), gs.size(), gs) != 0) continue;
      std::string base = name.substr(0, name.size() - gs.size());
      pairs.push_back({base, name, base + vs});
    }
  }
  for (auto& pair : pairs) {
    auto vi = tensors.find(pair.v);
    if (vi == tensors.end()) throw InputError("weight norm of '" + pair.base + "': " + pair.v + " missing");
    auto g = tensors.at(pair.g).to(torch::kFloat32), v = vi->second.to(torch::kFloat32);
    std::vector<int64_t> dims;
    for (int64_t d = 1; d < v.dim(); ++d) dims.push_back(d);
    tensors[pair.base + ".weight"] = g * v / v.pow(2).sum(dims, /*keepdim=*/true).sqrt();
    tensors.erase(pair.g);
    tensors.erase(pair.v);
  }
}

void load_strict(torch::nn::Module& module, const StateDict& tensors, const std::string& source,
                 const std::string& prefix, const std::function<bool(const std::string&)>& skip) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  auto assign = [&](const std::string& name, torch::Tensor& target) {
    auto it = tensors.find(prefix + name);
    if (it == tensors.end()) throw InputError(source + ": tensor '" + prefix + name + "' missing");
    if (it->second.sizes() != target.sizes()) {
      std::ostringstream msg;
      msg << source << ": tensor '" << prefix << name << "' has shape " << it->second.sizes()
          << ", the configuration gives " << target.sizes();
      throw InputError(msg.str());
    }
    target.copy_(it->second.to(target.dtype()));
    used.insert(prefix + name);
  };
  for (auto& item : module.named_parameters(/*recurse=*/true)) assign(item.key(), item.value());
  for (auto& item : module.named_buffers(/*recurse=*/true)) assign(item.key(), item.value());
  for (auto& [name, t] : tensors) {
    (void)t;
    if (used.count(name)) continue;
    if (!prefix.empty() && name.compare(0, prefix.size(), prefix) != 0) continue;
    std::string local = name.substr(prefix.size());
    if (skip && skip(local)) continue;
    throw InputError(source + ": tensor '" + name +
                     "' matches nothing in the model (a checkpoint of another "
                     "configuration?)");
  }
}

}  // namespace symp::speech
