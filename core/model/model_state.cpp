#include "core/model/model_state.h"

#include <sstream>
#include <unordered_map>

namespace edgerig {
namespace {

std::string shapeText(c10::IntArrayRef sizes) {
  std::ostringstream out;
  out << sizes;
  return out.str();
}

}  // namespace

ModelState stateOf(const torch::nn::Module& m) {
  ModelState state;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) {
    state.emplace_back(p.key(), p.value().detach().clone());
  }
  for (const auto& b : m.named_buffers(/*recurse=*/true)) {
    state.emplace_back(b.key(), b.value().detach().clone());
  }
  return state;
}

Status loadState(torch::nn::Module& m, const ModelState& s) {
  std::unordered_map<std::string, const torch::Tensor*> by_name;
  for (const auto& [name, tensor] : s) by_name.emplace(name, &tensor);

  std::vector<std::pair<torch::Tensor, const torch::Tensor*>> copies;
  auto plan = [&](const std::string& name, const torch::Tensor& target) -> Status {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return notFound("model state has no tensor '" + name +
                      "': it was saved from another model or stage slice");
    }
    const torch::Tensor& source = *it->second;
    if (!source.defined()) return invalidArgument("model state tensor '" + name + "' is empty");
    if (source.sizes() != target.sizes()) {
      return invalidArgument("model state tensor '" + name + "' has shape " +
                             shapeText(source.sizes()) + " but the model expects " +
                             shapeText(target.sizes()) + ": it comes from another model");
    }
    if (source.scalar_type() != target.scalar_type()) {
      return invalidArgument("model state tensor '" + name + "' has dtype " +
                             std::string(c10::toString(source.scalar_type())) +
                             " but the model expects " +
                             std::string(c10::toString(target.scalar_type())));
    }
    copies.emplace_back(target, &source);
    return Status::ok();
  };
  for (const auto& p : m.named_parameters(/*recurse=*/true)) {
    if (Status st = plan(p.key(), p.value()); !st) return st;
  }
  for (const auto& b : m.named_buffers(/*recurse=*/true)) {
    if (Status st = plan(b.key(), b.value()); !st) return st;
  }
  try {
    torch::NoGradGuard no_grad;
    for (auto& [target, source] : copies) target.copy_(*source);
  } catch (const std::exception& e) {
    return internalError(std::string("loading model state failed: ") + e.what());
  }
  return Status::ok();
}

ModelState mergeStates(const std::vector<ModelState>& parts) {
  ModelState merged;
  for (const auto& part : parts) merged.insert(merged.end(), part.begin(), part.end());
  return merged;
}

namespace {

constexpr const char* kMomentumSuffix = ".momentum";

std::string stateKey(const torch::Tensor& p) {
  return c10::guts::to_string(p.unsafeGetTensorImpl());
}

}  // namespace

ModelState momentumOf(torch::optim::SGD& optimizer, const torch::nn::Module& m) {
  ModelState out;
  auto& state = optimizer.state();
  for (const auto& p : m.named_parameters(/*recurse=*/true)) {
    auto it = state.find(stateKey(p.value()));
    if (it == state.end()) continue;
    auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(it->second.get());
    if (sgd == nullptr || !sgd->momentum_buffer().defined()) continue;
    out.emplace_back(p.key() + kMomentumSuffix, sgd->momentum_buffer().detach().clone());
  }
  return out;
}

Status loadMomentum(torch::optim::SGD& optimizer, const torch::nn::Module& m, const ModelState& s) {
  std::unordered_map<std::string, const torch::Tensor*> by_name;
  for (const auto& [name, tensor] : s) by_name.emplace(name, &tensor);
  auto& state = optimizer.state();
  for (const auto& p : m.named_parameters(/*recurse=*/true)) {
    auto it = by_name.find(p.key() + kMomentumSuffix);
    if (it == by_name.end()) continue;
    if (it->second->sizes() != p.value().sizes()) {
      return invalidArgument("momentum of '" + p.key() + "' has shape " +
                             shapeText(it->second->sizes()) + " but the parameter has " +
                             shapeText(p.value().sizes()));
    }
    auto fresh = std::make_unique<torch::optim::SGDParamState>();
    fresh->momentum_buffer(it->second->detach().clone());
    state[stateKey(p.value())] = std::move(fresh);
  }
  return Status::ok();
}

Result<ModelState> averageStates(const std::vector<ModelState>& states) {
  if (states.empty()) return invalidArgument("no model states to average");
  ModelState out;
  const ModelState& first = states.front();
  try {
    torch::NoGradGuard no_grad;
    for (size_t t = 0; t < first.size(); ++t) {
      torch::Tensor sum = first[t].second.to(torch::kFloat64);
      for (size_t k = 1; k < states.size(); ++k) {
        if (states[k].size() != first.size() || states[k][t].first != first[t].first ||
            states[k][t].second.sizes() != first[t].second.sizes()) {
          return invalidArgument("model states differ at tensor '" + first[t].first +
                                 "': they come from different models");
        }
        sum += states[k][t].second.to(torch::kFloat64);
      }
      const auto type = first[t].second.scalar_type();
      torch::Tensor mean = sum / static_cast<double>(states.size());
      // Integer buffers (counters) are not averaged meaningfully; keep the first device's.
      out.emplace_back(first[t].first, first[t].second.is_floating_point()
                                           ? mean.to(type)
                                           : first[t].second.clone());
    }
  } catch (const std::exception& e) {
    return internalError(std::string("averaging model states failed: ") + e.what());
  }
  return out;
}

}  // namespace edgerig
