#include "model_io.h"

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/text/glm_tokenizer.h"
#include "symp/text/sentencepiece.h"

namespace symp::infer {

std::unique_ptr<text::ChatTokenizer> open_tokenizer(const std::string& dir) {
  if (fs::exists(fs::path(dir) / text::SpmTokenizer::kConfigFile)) {
    return std::make_unique<text::SpmTokenizer>(text::SpmTokenizer::load(dir));
  }
  if (fs::exists(fs::path(dir) / "tokenizer_config.json")) {
    return std::make_unique<text::GlmTokenizer>(text::GlmTokenizer::load(dir));
  }
  throw InputError(
      dir + ": neither a symp tokenizer (tokenizer.json) nor a GLM-4 tokenizer (tokenizer_config.json)");
}

torch::Device parse_device(const std::string& name) {
  try {
    torch::Device d(name);
    if (d.is_cuda() && !torch::cuda::is_available())
      throw UsageError("--device " + name + ": CUDA is not available");
    return d;
  } catch (const c10::Error&) {
    throw UsageError("--device: unknown device '" + name + "'");
  }
}

}  // namespace symp::infer
