#!/usr/bin/env python3
"""The transformers + PEFT side of bench/cuda/bench_glm9b.sh: the 9B-shaped GLM (glm-4-voice-9b's sizes,
transformers' GlmForCausalLM layout) with random weights in bf16 on one GPU.

  decode: greedy generate, 256-token prompt, 128 new tokens (prompt forward included)
  step:   one LoRA r32 step (alpha 32, dropout 0.1, the attention and MLP projections), batch 1 x 2048,
          AdamW, clipping 1.0; median of 4 after 2 warm-ups; then the same with gradient checkpointing.
Prints one line per measurement in the format bench_glm_step prints.
"""
import statistics
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import GlmConfig, GlmForCausalLM

SEQ, PROMPT, NEW = 2048, 256, 128


def build():
    config = GlmConfig(vocab_size=168960, hidden_size=4096, intermediate_size=13696, num_hidden_layers=40,
                       num_attention_heads=32, num_key_value_heads=2, head_dim=128, partial_rotary_factor=0.5,
                       attention_bias=True, rms_norm_eps=1.5625e-07, max_position_embeddings=8192,
                       tie_word_embeddings=False)
    torch.set_default_dtype(torch.bfloat16)
    with torch.device("cuda"):
        model = GlmForCausalLM(config)
    torch.set_default_dtype(torch.float32)
    return model


def decode(model):
    model.eval()
    ids = torch.randint(0, model.config.vocab_size, (1, PROMPT), device="cuda")
    with torch.no_grad():
        model.generate(ids, max_new_tokens=8, do_sample=False)
        torch.cuda.synchronize()
        start = time.perf_counter()
        out = model.generate(ids, max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    new = out.shape[1] - PROMPT
    print(f"reference decode: {new / seconds:.1f} tokens/s ({1000 * seconds / new:.1f} ms/token), "
          f"peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB", flush=True)


def steps(model, label):
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    ids = torch.randint(0, 168960, (1, SEQ), device="cuda")
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(6):
        torch.cuda.synchronize()
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if i >= 2:
            times.append(time.perf_counter() - start)
    ms = 1000 * statistics.median(times)
    print(f"reference lora step{label}: {ms:.1f} ms/step, {SEQ / (ms / 1000):.0f} tokens/s, "
          f"peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB", flush=True)
    del optimizer


def main():
    torch.manual_seed(0)
    model = build()
    print(f"reference: torch {torch.__version__}, {torch.cuda.get_device_name()}", flush=True)
    decode(model)
    model = get_peft_model(model, LoraConfig(r=32, lora_alpha=32, lora_dropout=0.1,
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                                                             "gate_up_proj", "down_proj"]))
    model.train()
    steps(model, "")
    model.base_model.model.gradient_checkpointing_enable()
    model.base_model.model.enable_input_require_grads()
    steps(model, " +checkpointing")


if __name__ == "__main__":
    main()
