// The range every scenario, model and cluster field is read with, and why. Beyond these a value is a
// typo, not a design; within them the products the simulator forms (tokens x width x streams x
// layers, FLOPs, GPU counts) stay far inside int64 and int, so nothing overflows or wraps.
#pragma once

#include <cstdint>

namespace mhc::limits {

// mHC. The paper studies n = 4 (and HC n up to 8); the shipped kernels take n <= 8
// (kernels/mhc_api.h). 16 leaves room for what-if sweeps without letting n x C run away.
inline constexpr int64_t kMaxExpansionRate = 16;
// The paper's t_max is 20; 1000 Sinkhorn iterations per token is beyond any use.
inline constexpr int64_t kMaxSinkhornIters = 1000;

// Model. Deepest published LLMs: 126 layers (Llama 3.1 405B), 61 (DeepSeek-V3). validate's
// recompute-block search is linear in layers, so this also bounds its time.
inline constexpr int64_t kMaxLayers = 1024;
// Widest published: 16384 (Llama 3.1 405B), 20480 (MT-NLG 530B); 2^17 leaves room.
inline constexpr int64_t kMaxHidden = int64_t{1} << 17;
// FFN and expert widths: 53248 (Llama 3.1 405B), 73728 (PaLM 540B); 2^20 leaves room.
inline constexpr int64_t kMaxFfnWidth = int64_t{1} << 20;
// Vocabularies: 256000 (Gemma), 129280 (DeepSeek-V3); 2^22 leaves room.
inline constexpr int64_t kMaxVocab = int64_t{1} << 22;
// Sequence length, and tokens in one micro-batch (micro_batch x seq_len): 1M-token contexts exist.
inline constexpr int64_t kMaxTokens = int64_t{1} << 24;
// Attention: 128 heads (DeepSeek-V3), head dims 64..256 (MLA: 128 + 64 RoPE); ranks 512/1536.
inline constexpr int64_t kMaxHeads = 1024;
inline constexpr int64_t kMaxHeadDim = 2048;
// Routed experts: 256 (DeepSeek-V3); fine-grained MoE designs go to a few thousand.
inline constexpr int64_t kMaxExperts = 16384;

// Parallelism. Sequences per step: DeepSeek-V3 ends at 15360; 2^24 leaves room.
inline constexpr int64_t kMaxGlobalBatch = int64_t{1} << 24;
// Parameters per data-parallel gradient bucket: 2^40, more than any model's stage holds.
inline constexpr int64_t kMaxBucketParams = int64_t{1} << 40;
// Micro-batches per pipeline per step: the schedule and task graph grow with it (a step of 2^14
// micro-batches is already thousands of times a real one's 8-64).
inline constexpr int64_t kMaxMicroBatches = int64_t{1} << 14;

// Cluster. The largest published training clusters have ~100k GPUs; 2^20 in total leaves room
// (whether SimGrid can run one here is checked separately: engine/actor_limits.h).
inline constexpr int64_t kMaxNodes = 65536;
// Node-limited MoE routing (model.ffn.max_nodes_per_token; DeepSeek-V3: 4): at most every node.
inline constexpr int64_t kMaxNodesPerToken = kMaxNodes;
inline constexpr int64_t kMaxGpusPerNode = 1024;  // NVL576 is the largest NVLink domain announced
inline constexpr int64_t kMaxGpus = int64_t{1} << 20;
inline constexpr int64_t kMaxSms = 1024;          // H100 SXM: 132, B200: 148
inline constexpr double kMaxGpuMemoryGB = 10000;  // HBM per GPU today: 80 to 288 GB
// Link bandwidth, GB/s one way: from 1 Gb/s Ethernet (0.125 GB/s) up. NVLink 5 is 900 GB/s; the
// upper bound is far beyond it on purpose, so an ideal network stays expressible for what-if runs
// (tests compare the engine with the zero-cost evaluator on one), and still finite in every sum.
inline constexpr double kMinLinkGBps = 0.1;
inline constexpr double kMaxLinkGBps = 1e9;
// Link and switch latency, us: NCCL's per-hop terms are 0.6 to 3 us; 10 ms is a WAN.
inline constexpr double kMaxLatencyUs = 10000;
// Leaf oversubscription: 1 (non-blocking) to the 3:1 or 4:1 of cost-reduced fabrics; 64 leaves room.
inline constexpr double kMaxOversubscription = 64;

}  // namespace mhc::limits
