// Independent references for equivalence tests: the zoo's models written again in plain
// torch::nn (not edgerig's LayerChain or StageModule), their weights loaded from an edgerig
// model state by name, and a plain SGD loop over given batches. If edgerig's model code, the
// pipeline or the all-reduce got something wrong, these do not share the mistake.
#pragma once

#include <torch/torch.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgerig::testsupport {

namespace tnn = torch::nn;

// "conv1.0.weight" (edgerig: block conv1, module 0 of its Sequential) -> "conv1.weight".
inline std::string referenceName(const std::string& edgerig_name) {
  const auto first = edgerig_name.find('.');
  const auto last = edgerig_name.rfind('.');
  if (first == std::string::npos || first == last) return edgerig_name;
  return edgerig_name.substr(0, first) + edgerig_name.substr(last);
}

class ReferenceModel : public tnn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;

  // Copies every parameter from `state` (edgerig names); throws naming a missing one.
  void load(const std::vector<std::pair<std::string, torch::Tensor>>& state) {
    std::map<std::string, torch::Tensor> by_name;
    for (const auto& [name, t] : state) by_name[referenceName(name)] = t;
    torch::NoGradGuard no_grad;
    for (auto& p : named_parameters()) {
      auto it = by_name.find(p.key());
      if (it == by_name.end()) throw std::runtime_error("no tensor for " + p.key());
      p.value().copy_(it->second);
    }
  }
  // The weights, named as edgerig names them.
  std::map<std::string, torch::Tensor> weights() {
    std::map<std::string, torch::Tensor> out;
    for (auto& p : named_parameters()) out[p.key()] = p.value().detach().clone();
    return out;
  }
};

// Conv 1→32 3×3 pad 1, ReLU, pool; conv 32→64 3×3 pad 1, ReLU, pool; fc 3136→128, ReLU; fc →10.
class ReferenceCnn : public ReferenceModel {
 public:
  ReferenceCnn()
      : conv1(register_module("conv1", tnn::Conv2d(tnn::Conv2dOptions(1, 32, 3).padding(1)))),
        conv2(register_module("conv2", tnn::Conv2d(tnn::Conv2dOptions(32, 64, 3).padding(1)))),
        fc1(register_module("fc1", tnn::Linear(64 * 7 * 7, 128))),
        fc2(register_module("fc2", tnn::Linear(128, 10))) {}
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::max_pool2d(torch::relu(conv1(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2(x)), 2);
    x = torch::relu(fc1(x.flatten(1)));
    return fc2(x);
  }
  tnn::Conv2d conv1, conv2;
  tnn::Linear fc1, fc2;
};

// LeNet-5: conv 1→6 5×5 pad 2, ReLU, pool; conv 6→16 5×5, ReLU, pool; fc 400→120→84→10.
class ReferenceLenet5 : public ReferenceModel {
 public:
  ReferenceLenet5()
      : conv1(register_module("conv1", tnn::Conv2d(tnn::Conv2dOptions(1, 6, 5).padding(2)))),
        conv2(register_module("conv2", tnn::Conv2d(tnn::Conv2dOptions(6, 16, 5)))),
        fc1(register_module("fc1", tnn::Linear(400, 120))),
        fc2(register_module("fc2", tnn::Linear(120, 84))),
        fc3(register_module("fc3", tnn::Linear(84, 10))) {}
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::max_pool2d(torch::relu(conv1(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2(x)), 2);
    x = torch::relu(fc1(x.flatten(1)));
    x = torch::relu(fc2(x));
    return fc3(x);
  }
  tnn::Conv2d conv1, conv2;
  tnn::Linear fc1, fc2, fc3;
};

// MLP: fc 784→256→128→10 with ReLUs.
class ReferenceMlp : public ReferenceModel {
 public:
  ReferenceMlp()
      : fc1(register_module("fc1", tnn::Linear(784, 256))),
        fc2(register_module("fc2", tnn::Linear(256, 128))),
        fc3(register_module("fc3", tnn::Linear(128, 10))) {}
  torch::Tensor forward(torch::Tensor x) override {
    x = torch::relu(fc1(x.flatten(1)));
    x = torch::relu(fc2(x));
    return fc3(x);
  }
  tnn::Linear fc1, fc2, fc3;
};

inline std::shared_ptr<ReferenceModel> referenceModel(const std::string& name) {
  if (name == "cnn") return std::make_shared<ReferenceCnn>();
  if (name == "lenet5") return std::make_shared<ReferenceLenet5>();
  if (name == "mlp") return std::make_shared<ReferenceMlp>();
  throw std::runtime_error("no reference model for " + name);
}

struct ReferenceRun {
  std::vector<double> losses;                    // per step, mean over the step's batch
  std::map<std::string, torch::Tensor> weights;  // after the last step, edgerig names
};

// Plain SGD (momentum, weight decay) over the given batches, one optimizer step each, with the
// mean cross-entropy of each batch. `batches` are (images, labels). `gradient_scale` != 1 makes
// every gradient that much off: what an equivalence test's tolerance must be able to see.
inline ReferenceRun referenceTraining(
    const std::string& model, const std::vector<std::pair<std::string, torch::Tensor>>& initial,
    const std::vector<std::pair<torch::Tensor, torch::Tensor>>& batches, double lr, double momentum,
    double weight_decay, double gradient_scale = 1.0,
    const std::vector<std::pair<int64_t, double>>& lr_steps = {}) {
  auto m = referenceModel(model);
  m->load(initial);
  torch::optim::SGD opt(m->parameters(),
                        torch::optim::SGDOptions(lr).momentum(momentum).weight_decay(weight_decay));
  ReferenceRun out;
  int64_t iteration = 0;
  for (const auto& [x, y] : batches) {
    // A learning-rate schedule (iteration, factor), as torch's MultiStepLR applies one.
    for (const auto& [at, factor] : lr_steps) {
      if (at != iteration) continue;
      for (auto& group : opt.param_groups()) {
        auto& options = static_cast<torch::optim::SGDOptions&>(group.options());
        options.lr(options.lr() * factor);
      }
    }
    ++iteration;
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(m->forward(x), y);
    loss.backward();
    if (gradient_scale != 1.0) {
      torch::NoGradGuard no_grad;
      for (auto& p : m->parameters()) p.mutable_grad().mul_(gradient_scale);
    }
    opt.step();
    out.losses.push_back(loss.item<double>());
  }
  out.weights = m->weights();
  return out;
}

}  // namespace edgerig::testsupport
