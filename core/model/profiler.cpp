#include "core/model/profiler.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>

namespace edgerig {
namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::vector<double> profileLayers(const LayerChain& chain, int batch_size, int repetitions,
                                  uint64_t seed) {
  const int64_t batch = std::max(batch_size, 1);
  const int reps = std::max(repetitions, 1);
  std::vector<double> seconds;
  try {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    std::vector<int64_t> in_shape = {batch, kImageChannels, kImageSize, kImageSize};
    for (int i = 0; i < chain.numLayers(); ++i) {
      auto layer = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(chain.layer(i)->clone());
      // Every stage but the first also sends the gradient of its input upstream.
      torch::Tensor input = torch::randn(in_shape, gen).set_requires_grad(i > 0);
      std::vector<double> times;
      for (int r = 0; r <= reps; ++r) {
        layer->zero_grad();
        if (input.grad().defined()) input.mutable_grad().zero_();
        const auto start = std::chrono::steady_clock::now();
        torch::Tensor out = layer->forward(input);
        out.backward(torch::ones_like(out));
        if (r > 0) times.push_back(secondsSince(start));  // r == 0 is the warm-up
      }
      std::sort(times.begin(), times.end());
      const size_t mid = times.size() / 2;  // the median; of an even count, the middle two's mean
      seconds.push_back(times.size() % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2);
      in_shape = {batch};
      const auto& shape = chain.info(i).output_shape;
      in_shape.insert(in_shape.end(), shape.begin(), shape.end());
    }
  } catch (const std::exception&) {
    return {};
  }
  return seconds;
}

}  // namespace edgerig
