// symp infer: spoken replies for inputs x affect conditions x systems (base model and LoRA adapters).
#include <iostream>

#include "command.h"
#include "symp/infer/infer.h"

namespace {

symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<symp::infer::InferOptions>();
  app.add_option("--model", o->model_dir, "Base model folder (config.json + safetensors)")->required();
  app.add_option("--adapter", o->adapters,
                 "PEFT adapter folder, DIR or NAME=DIR; repeat for several systems");
  app.add_flag("--include-base", o->include_base, "Also answer with the base model alone (system 'base')");
  app.add_option("--base-name", o->base_name, "System name of the base model")->capture_default_str();
  app.add_option("--tokenizer", o->tokenizer_dir, "Tokenizer folder (symp tokenize fit output, or GLM-4's)")
      ->required();
  app.add_option("--codec", o->codec, "Speech codec kind: embedded or glm4voice")->capture_default_str();
  app.add_option("--codec-encoder", o->codec_encoder_dir, "Codec encoder folder (default: --tokenizer)");
  app.add_option("--codec-decoder", o->codec_decoder_dir, "Codec decoder folder (default: --tokenizer)");
  app.add_option("--audio", o->audio, "Input WAV files or folders of them");
  app.add_option("--manifest", o->manifest,
                 "Corpus manifest: its query audio are the inputs (one per query)");
  app.add_option("--partition", o->partition, "With --manifest: only this partition (train, eval)");
  app.add_option("--split", o->split,
                 "With --manifest: only this split (neutral; emotional: the Emotional setting, each reply "
                 "records its query_emotion for the judge)");
  app.add_option("--limit", o->limit, "At most this many inputs (0 = all)")->capture_default_str();
  auto& c = o->condition;
  app.add_option("--emotion", c.emotion, "Condition: an anchor name");
  app.add_option("--va", c.va, "Condition: 'valence,arousal'");
  app.add_option("--interpolate", c.interpolate, "Condition: two anchors 'A,B' (with --t or --t-sweep)");
  app.add_option("--t", c.t, "Position along --interpolate (0 = A, 1 = B)");
  app.add_option("--t-sweep", o->t_sweep, "Several positions along --interpolate, e.g. 0.25,0.5,0.75")
      ->delimiter(',');
  app.add_option("--taxonomy", c.taxonomy,
                 "Condition from a sensor: taxonomy name or JSON file (with --probs)");
  app.add_option("--probs", c.probs, "Sensor probabilities 'label=p,...'");
  app.add_flag("--none", c.none, "No condition (N/A)");
  app.add_option("--cues", o->cues,
                 "Sensing experiment: JSONL of {query_id, modality, taxonomy, probs, emotion}; each input is "
                 "answered once per cue (its VA via the affect core) and once without (N/A)");
  app.add_flag("--all-emotions", o->all_emotions,
               "Answer each input once per anchor (the neutral-split protocol)");
  app.add_flag(
      "--reference-conditions", o->reference_conditions,
      "The reference's 19 conditions: 12 anchors, happy->sad and anxious->relaxed at 0.25/0.5/0.75, N/A");
  app.add_option("--va-noise", c.noise_sigma, "Gaussian noise sigma on the VA condition, then clamped")
      ->capture_default_str();
  app.add_option(
         "--prompt-style", o->prompt_style,
         "How the prompt states the condition: sympatheia (VA), emotion-text (\"The user is feeling "
         "{emotion}.\"), plain (\"Please respond in English.\": the Emotional setting), glm4voice (the "
         "base's own interleaved chat prompt; the condition is not used)")
      ->capture_default_str();
  app.add_option("--style", o->styles,
                 "Prompt style of one system, NAME=STYLE (e.g. base=glm4voice); repeatable");
  app.add_option("--setting", o->setting,
                 "Evaluation setting recorded for the judge: neutral, emotional or commoneval (default: the "
                 "manifest's split)");
  app.add_flag("--stream", o->stream,
               "Decode replies with the codec's streaming decoder (records first_audio_seconds)");
  app.add_option("--temperature", o->sampling.temperature, "Sampling temperature (<= 0: greedy)")
      ->capture_default_str();
  app.add_option("--top-p", o->sampling.top_p, "Nucleus sampling mass")->capture_default_str();
  app.add_option("--max-new-tokens", o->sampling.max_new_tokens, "Generation limit per reply")
      ->capture_default_str();
  app.add_option("--batch", o->batch,
                 "Replies of one input and system generated side by side (e.g. 12 with --all-emotions: "
                 "the 12 anchors' prompts share each forward pass); each keeps its own seed")
      ->capture_default_str();
  app.add_option("--device", o->device, "cpu or cuda[:N]")->capture_default_str();
  app.add_option("--dtype", o->dtype, "f32 or bf16")->capture_default_str();
  app.add_option("--out", o->out_dir, "Output folder: <system>/*.wav, responses.jsonl, summary.json")
      ->required();
  return [o, &app](const symp::cli::GlobalOptions& g) {
    o->seed = g.seed;
    o->validate();
    symp::cli::save_effective_config(app, o->out_dir);
    const auto s = symp::infer::run_infer(*o);
    std::cout << s.replies << " replies, " << s.tokens_per_second << " tokens/s, real-time factor "
              << s.real_time_factor << "\n";
    return 0;
  };
}

}  // namespace

SYMP_COMMAND(infer, "infer", 60,
             "Spoken replies under an affect condition, from a base model and LoRA adapters", setup)
