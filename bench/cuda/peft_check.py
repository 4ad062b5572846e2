"""Loads an adapter that symp wrote with PEFT itself and compares logits with `symp logits`.

Run on a machine with transformers + peft (the CUDA machine): python3 peft_check.py FIXTURES SYMP WORKDIR
It trains a few LoRA steps with symp on the transformers-layout fixture (so lora_B is non-zero), loads the
result with PeftModel.from_pretrained, and prints the largest relative logit difference.
"""
import json
import os
import subprocess
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import GlmForCausalLM

fixtures, symp, work = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work, exist_ok=True)
ids = json.load(open(os.path.join(fixtures, "glm_ids.json")))["input_ids"]
base_dir = os.path.join(fixtures, "glm_hf")

g = torch.Generator().manual_seed(0)
with open(os.path.join(work, "train.jsonl"), "w") as f:
    for i in range(8):
        seq = torch.randint(3, 256, (24,), generator=g).tolist()
        f.write(json.dumps({"id": f"s{i}", "text": "", "valence": None, "arousal": None, "input_ids": seq}) + "\n")

run = os.path.join(work, "run")
subprocess.run([symp, "--log-level", "warn", "train-lora", "--model", base_dir, "--train", os.path.join(work, "train.jsonl"),
                "--out", run, "--max-steps", "6", "--lr", "5e-2", "--warmup-steps", "0", "--lora-rank", "4",
                "--lora-alpha", "8", "--lora-dropout", "0", "--grad-accum", "1", "--save-every", "6", "--eval-every", "0"],
               check=True)
adapter = os.path.join(run, "adapter")
out = os.path.join(work, "symp_logits.safetensors")
subprocess.run([symp, "logits", "--model", base_dir, "--adapter", adapter, "--ids", ",".join(map(str, ids)), "--out", out],
               check=True)
symp_logits = load_file(out)["logits"].double()

base = GlmForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
with torch.no_grad():
    base_logits = base(torch.tensor([ids])).logits[0].double()
model = PeftModel.from_pretrained(base, adapter)
model.eval()
with torch.no_grad():
    peft_logits = model(torch.tensor([ids])).logits[0].double()

rel = ((symp_logits - peft_logits).abs().max() / peft_logits.abs().max()).item()
moved = ((peft_logits - base_logits).abs().max() / base_logits.abs().max()).item()
print(json.dumps({"peft_loads_symp_adapter": True, "max_rel_diff_symp_vs_peft": rel,
                  "adapter_effect_rel": moved, "pass": rel < 1e-4 and moved > 1e-3}))
sys.exit(0 if rel < 1e-4 and moved > 1e-3 else 1)
