#!/usr/bin/python3
"""The tiny GLM of bench/train_tiny.cpp (symp's GlmConfig::tiny, vocab 3072) written in plain PyTorch, trained
the same way: batch 16 x 160 random tokens, float32, mean next-token cross-entropy, clipping at 1.0, AdamW
(lr 1e-4, betas 0.9/0.999, eps 1e-8, weight decay 0.01 on every parameter).

The model is written as GLM-4's modeling_chatglm.py (what glm-4-voice-9b ships) writes it, with its module
names: fused query_key_value with bias, RoPE on the first half of each head in interleaved pairs, grouped-query
attention by expanding the key/value groups, the eager CoreAttention path that torch 1.13 takes (no
scaled_dot_product_attention before 2.0), SwiGLU, untied output layer; RMSNorm as transformers writes it
(GlmRMSNorm), and the loss as transformers' ForCausalLMLoss (labels shifted, the last position ignored).
Nothing is fused or hand-optimised. Left out, as symp leaves them out: dropout (0 here), the layer-number
scaling of the attention scores that cancels in fp32 (apply_query_key_layer_scaling), the rotary table for
the whole context indexed by position ids (this one covers the 160 positions), and ChatGLM's own loss, which
slices the logits (transformers' form above is the cheaper one).

Same seed, ids and initial weights as bench_train_tiny (the same libtorch generator, parameters drawn in the
same order), so the losses printed match symp's step for step.

    bench/train_tiny_pytorch.py [steps=9] [threads=2] [--vs=build/bench/bench_train_tiny]

Alone it prints the line format of `bench_train_tiny --only-symp`: params, threads, `step i seconds loss` per
step (steps 0 and 1 warm up, untimed) and tokens_per_second from the median step. With --vs it runs that
program beside itself and alternates the two step by step (bench/train_tiny_vs_pytorch.sh does this).
"""
import ctypes
import math
import os
import subprocess
import sys
import time

# As symp::configure_process (symp/core/process.h) runs every symp binary: libgomp's PASSIVE wait policy
# unless the caller set one (libgomp reads it when torch loads it, below), and glibc's malloc tuned the same
# way (large blocks kept for reuse instead of fresh zero-filled mappings); SYMP_BENCH_MALLOC=0 leaves malloc
# as plain PyTorch has it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
if os.environ.get("SYMP_BENCH_MALLOC", "1") != "0":
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)
    libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
    libc.mallopt(M_TOP_PAD, 256 << 20)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

BATCH, LENGTH, VOCAB = 16, 160, 3072
HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM, FFN = 256, 4, 4, 2, 64, 688
ROTARY_DIM, ROPE_BASE, NORM_EPS = 32, 10000.0, 1e-5


class RMSNorm(nn.Module):  # transformers' GlmRMSNorm (LlamaRMSNorm)
    def __init__(self, hidden_size, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)


class RotaryEmbedding(nn.Module):  # modeling_chatglm.py
    def __init__(self, dim, rope_ratio=1):
        super().__init__()
        inv_freq = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=torch.float) / dim))
        self.register_buffer("inv_freq", inv_freq)
        self.dim = dim
        self.rope_ratio = rope_ratio

    def forward(self, seq_len):
        base = 10000 * self.rope_ratio
        theta = 1.0 / (base ** (torch.arange(0, self.dim, 2, dtype=torch.float) / self.dim))
        seq_idx = torch.arange(seq_len, dtype=torch.float)
        idx_theta = torch.outer(seq_idx, theta).float()
        return torch.stack([torch.cos(idx_theta), torch.sin(idx_theta)], dim=-1)  # [sq, dim / 2, 2]


def apply_rotary_pos_emb(x, rope_cache):  # modeling_chatglm.py (GLM-4): x [b, np, sq, hn]
    b, np, sq, hn = x.size(0), x.size(1), x.size(2), x.size(3)
    rot_dim = rope_cache.shape[-2] * 2
    x, x_pass = x[..., :rot_dim], x[..., rot_dim:]
    rope_cache = rope_cache[:sq]
    xshaped = x.reshape(b, np, sq, rot_dim // 2, 2)
    rope_cache = rope_cache.view(-1, 1, sq, xshaped.size(3), 2)
    x_out2 = torch.stack(
        [
            xshaped[..., 0] * rope_cache[..., 0] - xshaped[..., 1] * rope_cache[..., 1],
            xshaped[..., 1] * rope_cache[..., 0] + xshaped[..., 0] * rope_cache[..., 1],
        ],
        -1,
    )
    x_out2 = x_out2.flatten(3)
    return torch.cat((x_out2, x_pass), dim=-1)


class CoreAttention(nn.Module):  # modeling_chatglm.py's eager path, causal, softmax in fp32
    def __init__(self):
        super().__init__()
        self.norm_factor = math.sqrt(HEAD_DIM)

    def forward(self, query_layer, key_layer, value_layer):
        # [b, np, sq, hn]
        output_size = (query_layer.size(0), query_layer.size(1), query_layer.size(2), key_layer.size(2))
        query_layer = query_layer.reshape(output_size[0] * output_size[1], output_size[2], -1)
        key_layer = key_layer.reshape(output_size[0] * output_size[1], output_size[3], -1)
        matmul_input_buffer = torch.empty(
            output_size[0] * output_size[1], output_size[2], output_size[3], dtype=query_layer.dtype
        )
        matmul_result = torch.baddbmm(
            matmul_input_buffer, query_layer, key_layer.transpose(1, 2), beta=0.0, alpha=(1.0 / self.norm_factor)
        )
        attention_scores = matmul_result.view(*output_size).float()
        attention_mask = torch.ones(output_size[0], 1, output_size[2], output_size[3], dtype=torch.bool)
        attention_mask.tril_()
        attention_mask = ~attention_mask
        attention_scores = attention_scores.masked_fill(attention_mask, float("-inf"))
        attention_probs = F.softmax(attention_scores, dim=-1).type_as(value_layer)
        value_layer = value_layer.reshape(output_size[0] * output_size[1], value_layer.size(2), -1)
        attention_probs = attention_probs.view(output_size[0] * output_size[1], output_size[2], -1)
        context_layer = torch.bmm(attention_probs, value_layer)
        context_layer = context_layer.view(*output_size[:3], -1)
        context_layer = context_layer.transpose(1, 2).contiguous()  # [b, sq, np, hn]
        return context_layer.reshape(*context_layer.size()[:-2], -1)


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv_hidden_size = (HEADS + 2 * KV_HEADS) * HEAD_DIM
        self.query_key_value = nn.Linear(HIDDEN, self.qkv_hidden_size, bias=True)
        self.core_attention = CoreAttention()
        self.dense = nn.Linear(HEADS * HEAD_DIM, HIDDEN, bias=False)

    def forward(self, hidden_states, rotary_pos_emb):
        mixed_x_layer = self.query_key_value(hidden_states)  # [b, sq, (np + 2 ng) hn]
        query_layer, key_layer, value_layer = mixed_x_layer.split(
            [HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM], dim=-1
        )
        query_layer = query_layer.view(query_layer.size()[:-1] + (HEADS, HEAD_DIM))
        key_layer = key_layer.view(key_layer.size()[:-1] + (KV_HEADS, HEAD_DIM))
        value_layer = value_layer.view(value_layer.size()[:-1] + (KV_HEADS, HEAD_DIM))
        query_layer, key_layer, value_layer = [k.transpose(1, 2) for k in [query_layer, key_layer, value_layer]]
        query_layer = apply_rotary_pos_emb(query_layer, rotary_pos_emb)
        key_layer = apply_rotary_pos_emb(key_layer, rotary_pos_emb)
        # grouped-query attention: each key/value group serves HEADS / KV_HEADS query heads
        key_layer = key_layer.unsqueeze(2).expand(-1, -1, HEADS // KV_HEADS, -1, -1)
        key_layer = key_layer.contiguous().view(key_layer.size()[:1] + (HEADS,) + key_layer.size()[3:])
        value_layer = value_layer.unsqueeze(2).expand(-1, -1, HEADS // KV_HEADS, -1, -1)
        value_layer = value_layer.contiguous().view(value_layer.size()[:1] + (HEADS,) + value_layer.size()[3:])
        context_layer = self.core_attention(query_layer, key_layer, value_layer)
        return self.dense(context_layer)


class MLP(nn.Module):  # SwiGLU, gate first then up (modeling_chatglm.py)
    def __init__(self):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(HIDDEN, FFN * 2, bias=False)
        self.dense_4h_to_h = nn.Linear(FFN, HIDDEN, bias=False)

    def forward(self, hidden_states):
        intermediate_parallel = self.dense_h_to_4h(hidden_states)
        x = torch.chunk(intermediate_parallel, 2, dim=-1)
        intermediate_parallel = F.silu(x[0]) * x[1]
        return self.dense_4h_to_h(intermediate_parallel)


class GLMBlock(nn.Module):  # pre-norm, residuals around attention and MLP (no dropout)
    def __init__(self):
        super().__init__()
        self.input_layernorm = RMSNorm(HIDDEN, eps=NORM_EPS)
        self.self_attention = SelfAttention()
        self.post_attention_layernorm = RMSNorm(HIDDEN, eps=NORM_EPS)
        self.mlp = MLP()

    def forward(self, hidden_states, rotary_pos_emb):
        attention_output = self.self_attention(self.input_layernorm(hidden_states), rotary_pos_emb)
        layernorm_input = hidden_states + attention_output
        mlp_output = self.mlp(self.post_attention_layernorm(layernorm_input))
        return layernorm_input + mlp_output


class Embedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, HIDDEN)

    def forward(self, input_ids):
        return self.word_embeddings(input_ids)


class GLMTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([GLMBlock() for _ in range(LAYERS)])
        self.final_layernorm = RMSNorm(HIDDEN, eps=NORM_EPS)

    def forward(self, hidden_states, rotary_pos_emb):
        for layer in self.layers:
            hidden_states = layer(hidden_states, rotary_pos_emb)
        return self.final_layernorm(hidden_states)


class ChatGLMModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = Embedding()
        self.rotary_pos_emb = RotaryEmbedding(ROTARY_DIM)  # ChatGLM: RotaryEmbedding(kv_channels // 2)
        self.encoder = GLMTransformer()
        self.output_layer = nn.Linear(HIDDEN, VOCAB, bias=False)

    def forward(self, input_ids):
        inputs_embeds = self.embedding(input_ids)
        rotary_pos_emb = self.rotary_pos_emb(input_ids.size(1))
        return self.output_layer(self.encoder(inputs_embeds, rotary_pos_emb))


class ChatGLMForConditionalGeneration(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = ChatGLMModel()

    def forward(self, input_ids, labels):
        logits = self.transformer(input_ids).float()
        # transformers' ForCausalLMLoss: shift the labels, ignore the last position, mean over the rest
        labels = F.pad(labels, (0, 1), value=-100)
        shift_labels = labels[..., 1:].contiguous()
        return F.cross_entropy(logits.view(-1, VOCAB), shift_labels.view(-1), ignore_index=-100)


def init_weights(model, seed, std=0.02):
    """GlmModelImpl::init_weights: normal(0, std) matrices, unit norms, zero biases, from one generator in
    parameter order."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            value = torch.empty(p.shape)
            if "layernorm" in name:
                value.fill_(1.0)
            elif p.dim() == 1:
                value.zero_()
            else:
                value.normal_(0.0, std, generator=generator)
            p.copy_(value)


def median_rate(times):
    return BATCH * LENGTH / sorted(times)[len(times) // 2]  # the upper median, as bench_train_tiny takes it


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--vs=")]
    symp_bench = next((a[len("--vs="):] for a in sys.argv[1:] if a.startswith("--vs=")), None)
    steps = int(args[0]) if len(args) > 0 else 9
    threads = int(args[1]) if len(args) > 1 else 2
    warm = 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    ids = torch.randint(0, VOCAB, (BATCH, LENGTH), dtype=torch.int64)
    model = ChatGLMForConditionalGeneration()
    init_weights(model, 0)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    params = sum(p.numel() for p in model.parameters())

    def step():  # -> (seconds, loss)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = model(ids, labels=ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return time.perf_counter() - start, loss.item()

    if symp_bench is None:  # alone, in bench_train_tiny --only-symp's line format
        print(f"params {params}\nthreads {torch.get_num_threads()}", flush=True)
        times = []
        for i in range(warm + steps):
            seconds, loss = step()
            if i >= warm:
                times.append(seconds)
            print(f"step {i} {seconds:.4f} {loss:.6f}", flush=True)
        if times:
            print(f"tokens_per_second {median_rate(times):.1f}")
        return

    # Against bench_train_tiny, step by step: one step of each per round, the order flipping every round,
    # so load that changes during the run slows both alike. Each step starts after a pause: OpenBLAS's
    # worker threads spin for about 0.1 s after a matrix product, and those of the program that just
    # stepped would otherwise take CPU from the other's next step.
    pause = 0.3
    symp = subprocess.Popen([symp_bench, "--only-symp", "--lockstep", str(steps), str(threads)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    header = dict(symp.stdout.readline().split() for _ in range(2))

    def symp_step(i):
        symp.stdin.write("\n")
        symp.stdin.flush()
        fields = symp.stdout.readline().split()
        if len(fields) != 4 or fields[:2] != ["step", str(i)]:
            raise SystemExit(f"error: unexpected output from {symp_bench}: {fields}")
        return float(fields[2]), float(fields[3])

    times = {"symp": [], "torch": []}
    losses = {"symp": [], "torch": []}
    for i in range(warm + steps):
        for side in ("symp", "torch") if i % 2 == 0 else ("torch", "symp"):
            time.sleep(pause)
            seconds, loss = symp_step(i) if side == "symp" else step()
            losses[side].append(loss)
            if i >= warm:
                times[side].append(seconds)
    symp.stdin.close()
    if symp.wait() != 0:
        raise SystemExit(f"error: {symp_bench} exited with status {symp.returncode}")

    libtorch = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libtorch_cpu" in line})
    print(f"PyTorch {torch.__version__} ({os.path.dirname(torch.__file__)}) on {' '.join(libtorch)}")
    print(f"params: symp {header['params']}, PyTorch {params}")
    worst = max(abs(a - b) for a, b in zip(losses["symp"], losses["torch"]))
    print(f"losses over {warm + steps} steps: {losses['symp'][0]:.6f} .. {losses['symp'][-1]:.6f}, "
          f"largest difference {worst:.1e}")
    rates = {side: median_rate(t) for side, t in times.items()}
    print(f"symp tiny GLM: {rates['symp']:.0f} tokens/s (median of {steps} steps)")
    print(f"PyTorch, the same model: {rates['torch']:.0f} tokens/s")
    print(f"ratio symp / PyTorch: {rates['symp'] / rates['torch']:.2f}x  (threads {threads}, "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']})")
    if int(header["params"]) != params or worst > 1e-3:
        raise SystemExit("error: the two models differ")


if __name__ == "__main__":
    main()
