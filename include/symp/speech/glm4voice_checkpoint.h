#pragma once
// Weights of the GLM-4-Voice models as they ship: PyTorch checkpoint archives (`torch.save` of a state
// dict: a zip with data.pkl and one record per storage) and safetensors copies, plus the strict name
// match of a checkpoint against a libtorch module. Includes torch: for lib/speech and its tests only.
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

namespace symp::speech {

using StateDict = std::map<std::string, torch::Tensor>;

// Reads a `torch.save` zip archive of a (possibly nested) dict of tensors with libtorch's own zip reader
// (caffe2::serialize::PyTorchStreamReader) and a small unpickler for the subset state dicts use (dict
// and OrderedDict, _rebuild_tensor_v2 / _rebuild_parameter, storages of every dtype). torch 1.13's
// torch::pickle_load turns a top-level OrderedDict into None, which is why this exists. Nested dicts
// come out with dotted names ("state_dict.conv.weight"). InputError naming the file on anything else.
StateDict read_torch_checkpoint(const std::string& path);

// `.safetensors` files through symp::io, everything else as a torch checkpoint archive.
StateDict read_checkpoint(const std::string& path);

// Copies `tensors` into the module's parameters and buffers of the same name (after stripping `prefix`
// from the checkpoint names). Strict: a parameter or buffer without a tensor, or one whose shape differs,
// is an InputError naming `source`, the tensor and both shapes; a checkpoint tensor that matches nothing
// is an error too unless `skip(name)` says the official loader ignores it (names passed without prefix;
// names outside the prefix are always ignored when a prefix is given).
void load_strict(torch::nn::Module& module, const StateDict& tensors, const std::string& source,
                 const std::string& prefix = "",
                 const std::function<bool(const std::string&)>& skip = nullptr);

// Folds PyTorch weight normalisation into plain weights, in place: every `X.weight_g` / `X.weight_v`
// pair (and the `X.parametrizations.weight.original0/1` form of newer torch) becomes `X.weight` =
// g * v / ||v||, the norm taken over every dimension but the first.
void fold_weight_norm(StateDict& tensors);

}  // namespace symp::speech
