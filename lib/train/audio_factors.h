#pragma once
// The audio-id layout of a `tokenize fit` folder, for `train-lora --init-audio-factors`: where the embedded
// codec's ids start in the vocabulary and the sizes of the factors of its product code (envelope, pitch,
// energy; the last fastest), and the model's rows for them started from those factors. No torch in this
// header.
#include <cstdint>
#include <string>
#include <vector>

namespace symp::nn {
class GlmModelImpl;
}

namespace symp::train {

struct AudioFactorLayout {
  int64_t first = 0;             // id of audio code 0 (tokenizer.json's audio_offset)
  std::vector<int64_t> radices;  // envelope_codes, pitch_levels, energy_levels (codec.json's config)
};

// Reads DIR/tokenizer.json and DIR/codec.json; InputError naming the file and field when one is missing or
// when the factors' product is not tokenizer.json's audio_codes.
AudioFactorLayout read_audio_factor_layout(const std::string& dir);

// Reads DIR's layout and starts the model's audio-id rows from its factors (GlmModelImpl::init_product_rows).
void init_audio_factor_rows(nn::GlmModelImpl& model, const std::string& dir, uint64_t seed);

// Projects the model's audio-id rows back onto sums of per-factor vectors (GlmModel::project_product_rows).
void tie_audio_factor_rows(nn::GlmModelImpl& model, const AudioFactorLayout& layout);

}  // namespace symp::train
