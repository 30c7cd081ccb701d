#include "core/algorithms/decentralized/sparse_push/sparse_push_node.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

#include "core/data/random_stream.h"

namespace edgerig {
namespace {

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
  auto gen = at::detail::createCPUGenerator(draw);
  for (size_t t = 0; t < sizes_.size(); ++t) {
    const int64_t n = sizes_[t];
    if (n == 0) continue;
    torch::Tensor local;
    if (keep_[t] == n) {
      local = torch::arange(n, torch::kLong);
    } else if (kind_ == Compression::kTopK) {
      local = std::get<1>(torch::topk(flat.narrow(0, offset, n).abs(), keep_[t], /*dim=*/0,
                                      /*largest=*/true, /*sorted=*/false));
    } else {
      local = torch::randperm(n, gen, torch::kLong).narrow(0, 0, keep_[t]);
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
  h_ = torch::zeros_like(x_);
}

void SparsePushNode::numeratorsOf(const std::vector<torch::Tensor>& z) {
  torch::NoGradGuard no_grad;
  torch::Tensor flat = flatten(z);
  if (options_.skew != 0) flat.add_(h_, options_.skew);
  x_ = flat.mul_(u_);
}

std::vector<SparsePushNode::Message> SparsePushNode::share(
    int64_t round, const std::vector<std::pair<int, double>>& out) {
  torch::NoGradGuard no_grad;
  std::vector<Message> messages;
  const double u = u_;
  const torch::Tensor z = x_.div(u);
  z_start_ = z;
  for (const auto& [to, w] : out) {
    auto [it, fresh] = sent_.try_emplace(to);
    if (fresh) it->second = torch::zeros_like(x_);  // CHOCO starts its copies at zero
    torch::Tensor& copy = it->second;
    Message m;
    m.to = to;
    m.weight = w * u;
    m.mixing = w;
    m.delta = compressor_.compress(
        z - copy,
        mixSeed(options_.seed ^ mixSeed(static_cast<uint64_t>(round)), static_cast<uint64_t>(to)));
    (void)scatterAdd(copy, m.delta);  // offsets are ours: in range
    messages.push_back(std::move(m));
  }
  // The sender's half of the consensus step, after every copy has its q: what the receiver
  // will add, w·u·ẑ(me→j), scaled by γ.
  for (const auto& [to, w] : out) {
    const torch::Tensor change = sent_.at(to).mul(-options_.gamma * w * u);
    x_.add_(change);
    u_ -= options_.gamma * w * u;
  }
  return messages;
}

Status SparsePushNode::absorb(int from, const SparseDelta& delta, double weight, double mixing) {
  (void)mixing;  // weight = w·u of the sender: the copy's numerator scale
  auto [it, fresh] = received_.try_emplace(from);
  if (fresh) it->second = torch::zeros_like(x_);
  if (auto st = scatterAdd(it->second, delta); !st) return st;
  torch::NoGradGuard no_grad;
  const torch::Tensor change = it->second.mul(options_.gamma * weight);
  x_.add_(change);
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
    z[k].copy_(x_.narrow(0, offset, n).div(u_).view_as(z[k]));
    offset += n;
  }
}

torch::Tensor SparsePushNode::residual(int to) const {
  auto it = sent_.find(to);
  return it == sent_.end() ? x_.div(u_) : x_.div(u_) - it->second;
}

}  // namespace edgerig
