#include "core/algorithms/decentralized/common/push_sum.h"

namespace edgerig {

void PushSumNode::numeratorsOf(const std::vector<torch::Tensor>& z) {
  torch::NoGradGuard no_grad;
  x_.clear();
  for (const auto& t : z) x_.push_back(t.detach().mul(u_));
}

std::vector<PushSumNode::Share> PushSumNode::share(double self_weight,
                                                   const std::vector<std::pair<int, double>>& out) {
  torch::NoGradGuard no_grad;
  std::vector<Share> shares;
  for (const auto& [to, w] : out) {
    Share s;
    s.to = to;
    s.weight = w * u_;
    for (const auto& x : x_) s.values.push_back(x.mul(w));
    shares.push_back(std::move(s));
  }
  for (auto& x : x_) x.mul_(self_weight);
  u_ *= self_weight;
  return shares;
}

Status PushSumNode::absorb(const std::vector<torch::Tensor>& values, double weight) {
  if (values.size() != x_.size()) {
    return invalidArgument("a gossip share with " + std::to_string(values.size()) +
                           " tensors; this model has " + std::to_string(x_.size()));
  }
  for (size_t k = 0; k < values.size(); ++k) {
    if (!values[k].sizes().equals(x_[k].sizes())) {
      return invalidArgument("gossip share tensor " + std::to_string(k) + " has another shape");
    }
  }
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < values.size(); ++k) x_[k].add_(values[k]);
  u_ += weight;
  return Status::ok();
}

void PushSumNode::debias(const std::vector<torch::Tensor>& z) const {
  torch::NoGradGuard no_grad;
  for (size_t k = 0; k < z.size() && k < x_.size(); ++k) z[k].copy_(x_[k].div(u_));
}

}  // namespace edgerig
