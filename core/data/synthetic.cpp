// The synthetic dataset: each class is a fixed pattern of a few soft blobs; a sample is its
// class pattern, scaled, shifted by up to two pixels and buried in Gaussian noise.
#include <algorithm>
#include <array>
#include <cmath>

#include "core/data/dataset.h"
#include "core/data/random_stream.h"
#include "core/model/layer_chain.h"

namespace edgerig {
namespace {

constexpr int kSharedBlobs = 8;    // classes are made of overlapping parts ...
constexpr int kBlobsPerClass = 3;  // ... so that telling them apart takes some learning
constexpr double kNoiseStd = 1.0;
constexpr int kMaxShift = 2;
constexpr int64_t kPixels = kImageSize * kImageSize;

using Pattern = std::array<float, kPixels>;

// Depends on the seed alone, so train and test share the classes.
std::vector<Pattern> classPatterns(uint64_t seed) {
  RandomStream rng(mixSeed(seed, /*stream=*/0));
  std::vector<Pattern> blobs(kSharedBlobs);
  for (Pattern& blob : blobs) {
    const double cy = 5.0 + 18.0 * rng.uniform();
    const double cx = 5.0 + 18.0 * rng.uniform();
    const double sigma = 2.0 + 2.5 * rng.uniform();
    for (int y = 0; y < kImageSize; ++y) {
      for (int x = 0; x < kImageSize; ++x) {
        const double d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
        blob[y * kImageSize + x] = static_cast<float>(std::exp(-d2 / (2 * sigma * sigma)));
      }
    }
  }
  std::vector<Pattern> patterns(kNumClasses);
  for (Pattern& p : patterns) {
    p.fill(0.0f);
    for (int b = 0; b < kBlobsPerClass; ++b) {
      const Pattern& blob = blobs[rng.below(kSharedBlobs)];
      const float amplitude = rng.uniform() < 0.5 ? -1.0f : 1.0f;
      for (int64_t i = 0; i < kPixels; ++i) p[i] += amplitude * blob[i];
    }
  }
  return patterns;
}

}  // namespace

Dataset makeSynthetic(int64_t n, Split split, uint64_t seed) {
  n = std::max<int64_t>(n, 0);
  const std::vector<Pattern> patterns = classPatterns(seed);
  RandomStream rng(mixSeed(seed, split == Split::kTrain ? 1 : 2));
  Dataset d;
  d.name = std::string("synthetic/") + (split == Split::kTrain ? "train" : "test");
  d.images = torch::empty({n, kImageChannels, kImageSize, kImageSize}, torch::kFloat32);
  d.labels = torch::empty({n}, torch::kInt64);
  float* pixels = d.images.data_ptr<float>();
  int64_t* labels = d.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const auto label = static_cast<int64_t>(rng.below(kNumClasses));
    const double scale = 0.5 + rng.uniform();
    const int dy = static_cast<int>(rng.below(2 * kMaxShift + 1)) - kMaxShift;
    const int dx = static_cast<int>(rng.below(2 * kMaxShift + 1)) - kMaxShift;
    const Pattern& p = patterns[static_cast<size_t>(label)];
    float* out = pixels + i * kPixels;
    for (int y = 0; y < kImageSize; ++y) {
      for (int x = 0; x < kImageSize; ++x) {
        const int sy = y - dy, sx = x - dx;
        const bool inside = sy >= 0 && sy < kImageSize && sx >= 0 && sx < kImageSize;
        const double signal = inside ? scale * p[sy * kImageSize + sx] : 0.0;
        out[y * kImageSize + x] = static_cast<float>(signal + kNoiseStd * rng.normal());
      }
    }
    labels[i] = label;
  }
  return d;
}

}  // namespace edgerig
