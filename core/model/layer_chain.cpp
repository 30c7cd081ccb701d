#include "core/model/layer_chain.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

namespace edgerig {
namespace {

namespace nn = torch::nn;

struct Block {
  std::string name;
  std::string description;
  nn::Sequential layers;
  bool he_init = false;  // see initialise()
};

Block withHeInit(Block b) {
  b.he_init = true;
  return b;
}

std::string arrow(int64_t in, int64_t out) {
  return std::to_string(in) + "→" + std::to_string(out);
}

Block conv(const std::string& name, int64_t in, int64_t out, int64_t kernel, int64_t padding) {
  std::string description =
      "Conv2d " + arrow(in, out) + " " + std::to_string(kernel) + "×" + std::to_string(kernel);
  if (padding > 0) description += " pad " + std::to_string(padding);
  return {name, description + " + ReLU",
          nn::Sequential(
              nn::Conv2d(nn::Conv2dOptions(in, out, /*kernel_size=*/kernel).padding(padding)),
              nn::ReLU())};
}

Block pool(const std::string& name) {
  return {name, "MaxPool2d 2×2", nn::Sequential(nn::MaxPool2d(nn::MaxPool2dOptions(2)))};
}

// A fully connected block; the first one of a model also flattens its input.
Block fc(const std::string& name, int64_t in, int64_t out, bool flatten, bool relu) {
  nn::Sequential s;
  std::string description;
  if (flatten) {
    s->push_back(nn::Flatten());
    description = "Flatten + ";
  }
  s->push_back(nn::Linear(in, out));
  description += "Linear " + arrow(in, out);
  if (relu) {
    s->push_back(nn::ReLU());
    description += " + ReLU";
  }
  return {name, description, s};
}

std::vector<Block> mlp() {
  const int64_t in = kImageChannels * kImageSize * kImageSize;
  return {fc("fc1", in, 256, true, true), fc("fc2", 256, 128, false, true),
          fc("fc3", 128, kNumClasses, false, false)};
}

std::vector<Block> lenet5() {
  return {conv("conv1", kImageChannels, 6, 5, 2),
          pool("pool1"),
          conv("conv2", 6, 16, 5, 0),
          pool("pool2"),
          fc("fc1", 16 * 5 * 5, 120, true, true),
          fc("fc2", 120, 84, false, true),
          fc("fc3", 84, kNumClasses, false, false)};
}

std::vector<Block> cnn() {
  return {conv("conv1", kImageChannels, 32, 3, 1),
          pool("pool1"),
          conv("conv2", 32, 64, 3, 1),
          pool("pool2"),
          fc("fc1", 64 * 7 * 7, 128, true, true),
          fc("fc2", 128, kNumClasses, false, false)};
}

// VGG-style: three stages of two 3×3 convolutions and a pool (28 → 14 → 7 → 3), then two fc.
// Its ReLU blocks use He initialisation: with torch's default, the signal shrinks through the
// eight ReLU layers and a deep net without batch norm hardly moves for hundreds of steps.
std::vector<Block> vgg() {
  std::vector<Block> blocks = {conv("conv1_1", kImageChannels, 32, 3, 1),
                               conv("conv1_2", 32, 32, 3, 1),
                               pool("pool1"),
                               conv("conv2_1", 32, 64, 3, 1),
                               conv("conv2_2", 64, 64, 3, 1),
                               pool("pool2"),
                               conv("conv3_1", 64, 128, 3, 1),
                               conv("conv3_2", 128, 128, 3, 1),
                               pool("pool3"),
                               fc("fc1", 128 * 3 * 3, 256, true, true)};
  for (Block& b : blocks) b = withHeInit(std::move(b));
  blocks.push_back(fc("fc2", 256, kNumClasses, false, false));
  return blocks;
}

const std::vector<std::pair<std::string, std::function<std::vector<Block>()>>>& zoo() {
  static const std::vector<std::pair<std::string, std::function<std::vector<Block>()>>> kZoo = {
      {"mlp", mlp}, {"lenet5", lenet5}, {"cnn", cnn}, {"vgg", vgg}};
  return kZoo;
}

// PyTorch's default initialisation (kaiming_uniform with a = sqrt(5) for weights, which is
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for biases), or He's for ReLU
// (U(-sqrt(6/fan_in), sqrt(6/fan_in)), zero biases), drawn from a private generator so that
// the result depends on the seed alone.
void initialise(const Block& block, at::Generator& gen) {
  torch::NoGradGuard no_grad;
  for (const auto& child : block.layers->children()) {
    torch::Tensor weight, bias;
    if (auto* c = child->as<nn::Conv2d>()) {
      weight = c->weight;
      bias = c->bias;
    } else if (auto* l = child->as<nn::Linear>()) {
      weight = l->weight;
      bias = l->bias;
    } else {
      continue;
    }
    const double fan_in = static_cast<double>(weight.numel() / weight.size(0));
    const double bound = block.he_init ? std::sqrt(6.0 / fan_in) : 1.0 / std::sqrt(fan_in);
    weight.uniform_(-bound, bound, gen);
    if (!bias.defined()) continue;
    if (block.he_init) {
      bias.zero_();
    } else {
      bias.uniform_(-bound, bound, gen);
    }
  }
}

std::string knownModels() {
  std::string s;
  for (const auto& [name, make] : zoo()) s += (s.empty() ? "" : ", ") + name;
  return s;
}

}  // namespace

std::vector<std::string> LayerChain::modelNames() {
  std::vector<std::string> names;
  for (const auto& [name, make] : zoo()) names.push_back(name);
  return names;
}

std::string LayerChain::defaultModel() { return "cnn"; }

Result<LayerChain> LayerChain::build(const std::string& model, uint64_t seed) {
  const auto& models = zoo();
  auto it = std::find_if(models.begin(), models.end(),
                         [&](const auto& entry) { return entry.first == model; });
  if (it == models.end()) {
    return notFound("unknown model '" + model + "': choose one of " + knownModels());
  }
  try {
    LayerChain chain;
    chain.model_ = model;
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    torch::NoGradGuard no_grad;
    // One sample through the chain gives every block's output shape.
    torch::Tensor x = torch::zeros({1, kImageChannels, kImageSize, kImageSize});
    for (Block& block : it->second()) {
      initialise(block, gen);
      x = block.layers->forward(x);
      LayerInfo info;
      info.name = block.name;
      info.description = block.description;
      info.output_shape.assign(x.sizes().begin() + 1, x.sizes().end());
      for (const auto& p : block.layers->parameters()) info.parameters += p.numel();
      info.activation_bytes = (x.numel() / x.size(0)) * static_cast<int64_t>(sizeof(float));
      chain.infos_.push_back(std::move(info));
      chain.layers_.push_back(block.layers);
    }
    return chain;
  } catch (const std::exception& e) {
    return internalError("building model '" + model + "' failed: " + e.what());
  }
}

int64_t LayerChain::parameterCount() const {
  int64_t n = 0;
  for (const auto& info : infos_) n += info.parameters;
  return n;
}

Result<std::vector<LayerInfo>> describeModel(const std::string& model) {
  auto chain = LayerChain::build(model, /*seed=*/1);
  if (!chain) return chain.status();
  return chain->infos();
}

}  // namespace edgerig
