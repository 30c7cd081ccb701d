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

}  // namespace edgerig
