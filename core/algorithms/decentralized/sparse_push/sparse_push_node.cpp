#include "core/algorithms/decentralized/sparse_push/sparse_push_node.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <unordered_set>

#include "core/data/random_stream.h"

namespace edgerig {
namespace {

// Offsets of the `keep` largest |v| (unordered). A full topk over a large tensor costs more than
// the rest of a round (4-6 ms on the CNN's 400k-entry layer); instead a threshold is read off a
// strided sample, set low enough that about 1.25·keep entries pass, and the exact topk runs over
// those candidates. Every entry of the true top-k passes a threshold that at least `keep`
// entries pass, so the result is exact; with too few candidates it falls back to the full topk.
torch::Tensor topKOffsets(const torch::Tensor& v, int64_t keep) {
  const int64_t n = v.numel();
  const torch::Tensor mag = v.abs();
  constexpr int64_t kMinForSampling = 8192;
  if (n >= kMinForSampling && keep * 8 <= n) {
    const int64_t stride = std::max<int64_t>(1, n / std::max<int64_t>(4096, 50 * n / keep));
    const torch::Tensor sample = mag.slice(0, 0, n, stride);
    const int64_t m = sample.numel();
    const int64_t rank = std::clamp<int64_t>(
        static_cast<int64_t>(1.5 * static_cast<double>(keep) * m / static_cast<double>(n)), 1, m);
    const float threshold = std::get<0>(torch::topk(sample, rank, /*dim=*/0, /*largest=*/true,
                                                    /*sorted=*/false))
                                .min()
                                .item<float>();
    const torch::Tensor candidates = mag.ge(threshold).nonzero().reshape({-1});
    if (candidates.numel() >= keep) {
      const torch::Tensor best = std::get<1>(torch::topk(mag.index_select(0, candidates), keep,
                                                         /*dim=*/0, /*largest=*/true,
                                                         /*sorted=*/false));
      return candidates.index_select(0, best);
    }
  }
  return std::get<1>(torch::topk(mag, keep, /*dim=*/0, /*largest=*/true, /*sorted=*/false));
}

// `keep` distinct offsets in [0, n) drawn from `rng` (Floyd's algorithm: O(keep), where a
// permutation of n would cost 2-3 ms on the CNN's largest layer).
torch::Tensor randomOffsets(int64_t n, int64_t keep, std::mt19937_64& rng) {
  std::unordered_set<int64_t> chosen;
  chosen.reserve(static_cast<size_t>(keep) * 2);
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(keep));
  for (int64_t j = n - keep; j < n; ++j) {
    const int64_t t = std::uniform_int_distribution<int64_t>(0, j)(rng);
    const int64_t pick = chosen.insert(t).second ? t : j;
    if (pick == j) chosen.insert(j);
    out.push_back(pick);
  }
  return torch::tensor(out, torch::kLong);
}

torch::Tensor flatten(const std::vector<torch::Tensor>& z) {
  std::vector<torch::Tensor> flat;
  for (const auto& t : z) flat.push_back(t.detach().reshape({-1}).to(torch::kFloat32));
  return flat.empty() ? torch::zeros({0}) : torch::cat(flat);
}

}  // namespace

SparseCompressor::SparseCompressor(std::vector<int64_t> sizes, double k, Compression kind)
    : sizes_(std::move(sizes)), kind_(kind) {
  for (int64_t n : sizes_) {
    // At least one entry of every tensor, so that no tensor waits forever behind larger ones.
    const int64_t keep =
        std::clamp<int64_t>(static_cast<int64_t>(std::ceil(k * static_cast<double>(n))), 1, n);
    keep_.push_back(n > 0 ? keep : 0);
    kept_ += keep_.back();
    total_ += n;
  }
}

SparseDelta SparseCompressor::compress(const torch::Tensor& flat, uint64_t draw) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> indices;
  int64_t offset = 0;
  std::mt19937_64 rng(draw);
  for (size_t t = 0; t < sizes_.size(); ++t) {
    const int64_t n = sizes_[t];
    if (n == 0) continue;
    torch::Tensor local;
    if (keep_[t] == n) {
      local = torch::arange(n, torch::kLong);
    } else if (kind_ == Compression::kTopK) {
      local = topKOffsets(flat.narrow(0, offset, n), keep_[t]);
    } else {
      local = randomOffsets(n, keep_[t], rng);
    }
    indices.push_back(std::get<0>(local.sort()).add_(offset));
    offset += n;
  }
  SparseDelta d;
  if (indices.empty()) {
    d.indices = torch::zeros({0}, torch::kInt32);
    d.values = torch::zeros({0}, torch::kFloat32);
    return d;
  }
  const torch::Tensor all = torch::cat(indices);
  d.values = flat.index_select(0, all).contiguous();
  d.indices = all.to(torch::kInt32).contiguous();
  return d;
}

Status scatterAdd(torch::Tensor& into, const SparseDelta& delta, double scale) {
  if (delta.indices.dim() != 1 || delta.values.dim() != 1 ||
      delta.indices.numel() != delta.values.numel()) {
    return invalidArgument("a sparse share whose indices (" +
                           std::to_string(delta.indices.numel()) + ") and values (" +
                           std::to_string(delta.values.numel()) + ") do not pair up");
  }
  if (delta.indices.numel() == 0) return Status::ok();
  const torch::Tensor idx = delta.indices.to(torch::kLong);
  const int64_t lo = idx.min().item<int64_t>();
  const int64_t hi = idx.max().item<int64_t>();
  if (lo < 0 || hi >= into.numel()) {
    return invalidArgument("a sparse share with an index out of range [" + std::to_string(lo) +
                           ", " + std::to_string(hi) + "]; this model has " +
                           std::to_string(into.numel()) + " parameters");
  }
  torch::NoGradGuard no_grad;
  into.index_add_(0, idx, scale == 1.0 ? delta.values : delta.values.mul(scale));
  return Status::ok();
}

SparsePushNode::SparsePushNode(Options options, const std::vector<torch::Tensor>& z)
    : options_(options),
      compressor_(
          [&] {
            std::vector<int64_t> s;
            for (const auto& t : z) s.push_back(t.numel());
            return s;
          }(),
          options.k, options.compression) {
  for (const auto& t : z) sizes_.push_back(t.numel());
  x_ = flatten(z);
  start_ = options_.copies_start_at_model ? x_.clone() : torch::zeros_like(x_);
  h_ = torch::zeros_like(x_);
}

void SparsePushNode::numeratorsOf(const std::vector<torch::Tensor>& z) {
  torch::NoGradGuard no_grad;
  // In place, tensor by tensor: a round allocates as little of the model's size as it can.
  int64_t offset = 0;
  for (const auto& t : z) {
    const int64_t n = t.numel();
    x_.narrow(0, offset, n).copy_(t.detach().reshape({-1}));
    offset += n;
  }
  if (options_.skew != 0) x_.add_(h_, options_.skew);
  if (u_ != 1.0) x_.mul_(u_);
}

std::vector<SparsePushNode::Message> SparsePushNode::share(
    int64_t round, const std::vector<std::pair<int, double>>& out) {
  torch::NoGradGuard no_grad;
  std::vector<Message> messages;
  const double u = u_;
  // z = x / u; x itself when u = 1 and nothing keeps z (x changes only after the last q).
  const torch::Tensor z = u != 1.0 ? x_.div(u) : (options_.skew != 0 ? x_.clone() : x_);
  if (options_.skew != 0) z_start_ = z;
  for (const auto& [to, w] : out) {
    auto [it, fresh] = sent_.try_emplace(to);
    if (fresh) it->second = start_.clone();
    torch::Tensor& copy = it->second;
    Message m;
    m.to = to;
    m.weight = w * u;
    m.delta = compressor_.compress(
        z - copy,
        mixSeed(options_.seed ^ mixSeed(static_cast<uint64_t>(round)), static_cast<uint64_t>(to)));
    if (options_.half_values) {
      constexpr double kHalfMax = 65504;
      m.delta.values =
          m.delta.values.clamp(-kHalfMax, kHalfMax).to(torch::kHalf).to(torch::kFloat32);
    }
    (void)scatterAdd(copy, m.delta);  // offsets are ours: in range
    messages.push_back(std::move(m));
  }
  // The sender's half of the consensus step, after every copy has its q: what the receiver
  // will add, w·u·ẑ(me→j), scaled by γ.
  for (const auto& [to, w] : out) {
    x_.add_(sent_.at(to), -options_.gamma * w * u);
    u_ -= options_.gamma * w * u;
  }
  return messages;
}

Status SparsePushNode::absorb(int from, const SparseDelta& delta, double weight) {
  auto [it, fresh] = received_.try_emplace(from);
  if (fresh) it->second = start_.clone();
  if (auto st = scatterAdd(it->second, delta); !st) return st;
  torch::NoGradGuard no_grad;
  x_.add_(it->second, options_.gamma * weight);
  u_ += options_.gamma * weight;
  return Status::ok();
}

void SparsePushNode::endRound() {
  torch::NoGradGuard no_grad;
  if (options_.skew != 0 && z_start_.defined()) {
    h_.mul_(options_.skew_memory).add_(x_.div(u_) - z_start_, 1.0 - options_.skew_memory);
  }
  z_start_ = torch::Tensor();
}

void SparsePushNode::debias(const std::vector<torch::Tensor>& z) const {
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (size_t k = 0; k < z.size(); ++k) {
    const int64_t n = z[k].numel();
    if (offset + n > x_.numel()) break;
    const torch::Tensor x = x_.narrow(0, offset, n).view_as(z[k]);
    if (u_ == 1.0) {
      z[k].copy_(x);
    } else {
      z[k].copy_(x.div(u_));
    }
    offset += n;
  }
}

torch::Tensor SparsePushNode::residual(int to) const {
  auto it = sent_.find(to);
  return x_.div(u_) - (it == sent_.end() ? start_ : it->second);
}

}  // namespace edgerig
