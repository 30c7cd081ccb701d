// What sparse-push's compression costs against what it saves the wire from: per round, top-k
// selection of each tensor's change, encoding the share (exact: int32 offsets + float32 values as
// two tensors; compact: varint offset gaps + float16 values in the body; serialized), decoding it
// as the worker does (checked, then read back into tensors), and both ends' copy and consensus
// updates, against the
// compute of one training iteration of the default CNN (batch 64, one thread, forward + backward
// + SGD step), measured in the same run, alternating. The model is perturbed between rounds like a
// local step would (outside the timing), so every round compresses a fresh change.
// Prints a table and `RATIO` lines (target: ≤ 0.10 at k = 1 %).
// Usage: bench_sparse_compression [rounds]
#include <malloc.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/decentralized/sparse_push/sparse_push_node.h"
#include "core/algorithms/decentralized/sparse_push/sparse_push_worker.h"
#include "core/algorithms/decentralized/sparse_push/sparse_share_check.h"
#include "core/model/layer_chain.h"
#include "core/model/stage.h"
#include "core/model/tensor_codec.h"
#include "decentralized.pb.h"

namespace edgerig {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatch = 64;

double seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Costs {
  double select = 0;  // top-k / random-k selection and the sender's copy + consensus update
  double encode = 0;  // AlgoMessage with the share, serialized
  double decode = 0;  // parsed, checked and read back into tensors
  double absorb = 0;  // the receiver's copy + consensus update, z = x / u
  int64_t bytes = 0;
};

int run(int rounds) {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  auto chain = LayerChain::build("cnn", 1);
  if (!chain) {
    std::fprintf(stderr, "%s\n", chain.status().message().c_str());
    return 1;
  }
  StageModule model(*chain, 0, chain->numLayers());
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  // Fashion-MNIST-shaped random batches: the compute is the same as on the real images.
  const torch::Tensor x = torch::randn({kBatch, 1, 28, 28});
  const torch::Tensor y = torch::randint(0, 10, {kBatch}, torch::kLong);
  auto trainStep = [&] {
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    opt.zero_grad();
    loss.backward();
    opt.step();
  };

  int64_t params = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  std::printf("model cnn: %lld parameters (%.2f MB of float32), %d rounds\n",
              static_cast<long long>(params), params * 4 / 1e6, rounds);
  std::printf("%-10s %8s %10s %10s %10s %10s %10s %10s %8s\n", "kind", "k", "select_ms",
              "encode_ms", "decode_ms", "absorb_ms", "total_ms", "iter_ms", "ratio");

  for (int w = 0; w < 3; ++w) trainStep();  // warm-up
  for (auto [kind, compact] :
       {std::pair{Compression::kTopK, false}, std::pair{Compression::kRandomK, false},
        std::pair{Compression::kTopK, true}}) {
    for (double k : {0.01, 0.1}) {
      SparsePushNode::Options o;
      o.k = k;
      o.gamma = 0.5;
      o.compression = kind;
      o.half_values = compact;
      std::vector<torch::Tensor> z_sender, z_receiver;
      for (const auto& p : model->parameters()) {
        z_sender.push_back(p.detach().clone());
        z_receiver.push_back(p.detach().clone());
      }
      SparsePushNode sender(o, z_sender);
      SparsePushNode receiver(o, z_receiver);
      std::vector<double> select, encode, decode, absorb, iteration;
      int64_t bytes = 0;
      for (int r = 0; r < rounds + 2; ++r) {
        {
          torch::NoGradGuard no_grad;
          for (auto& t : z_sender) t.add_(torch::randn_like(t), 1e-3);  // a local step's change
        }
        auto t0 = Clock::now();
        trainStep();
        const double it_s = seconds(t0);

        t0 = Clock::now();
        sender.numeratorsOf(z_sender);
        auto messages = sender.share(r, {{1, 0.5}});
        sender.endRound();
        sender.debias(z_sender);
        const double select_s = seconds(t0);

        t0 = Clock::now();
        decentralized::SparseShare body;
        body.set_iteration(r);
        body.set_weight(messages[0].weight);
        if (compact) encodeCompact(messages[0].delta, body);
        wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kGossip, body);
        if (!compact) {
          appendTensor(m, messages[0].delta.indices);
          appendTensor(m, messages[0].delta.values);
        }
        const std::string wire_bytes = m.SerializeAsString();
        const double encode_s = seconds(t0);

        t0 = Clock::now();
        wire::AlgoMessage in;
        in.ParseFromString(wire_bytes);
        auto checked = checkSparseShare(in, params);
        Result<SparseDelta> delta =
            checked ? deltaOf(in, *checked) : Result<SparseDelta>(checked.status());
        const double decode_s = seconds(t0);
        if (!delta) {
          std::fprintf(stderr, "decoding failed: %s\n", delta.status().message().c_str());
          return 1;
        }

        t0 = Clock::now();
        receiver.numeratorsOf(z_receiver);
        if (auto st = receiver.absorb(0, *delta, messages[0].weight); !st) {
          std::fprintf(stderr, "%s\n", st.message().c_str());
          return 1;
        }
        receiver.endRound();
        receiver.debias(z_receiver);
        const double absorb_s = seconds(t0);
        if (r < 2) continue;  // warm-up
        iteration.push_back(it_s);
        select.push_back(select_s);
        encode.push_back(encode_s);
        decode.push_back(decode_s);
        absorb.push_back(absorb_s);
        bytes = static_cast<int64_t>(wire_bytes.size());
      }
      const double sel = median(select), enc = median(encode), dec = median(decode),
                   abs = median(absorb), it = median(iteration);
      const double total = sel + enc + dec + abs;
      const std::string name = compact                      ? "top-k/cmp"
                               : kind == Compression::kTopK ? "top-k"
                                                            : "random-k";
      std::printf("%-10s %8.3f %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f %8.3f\n", name.c_str(), k,
                  sel * 1e3, enc * 1e3, dec * 1e3, abs * 1e3, total * 1e3, it * 1e3, total / it);
      std::printf("message %lld bytes, dense float32 %lld bytes: %.1fx fewer\n",
                  static_cast<long long>(bytes), static_cast<long long>(params * 4),
                  static_cast<double>(params * 4) / static_cast<double>(bytes));
      char key[64];
      std::snprintf(key, sizeof key, "%s_k%g",
                    compact                      ? "topk_compact"
                    : kind == Compression::kTopK ? "topk"
                                                 : "randomk",
                    k * 100);
      std::printf("RATIO sparse_push_%s_compress_encode_decode_over_iteration %.4f\n", key,
                  total / it);
      if (kind == Compression::kTopK && !compact && k == 0.01) {
        std::printf("RATIO sparse_push_topk_k1_selection_over_iteration %.4f\n", sel / it);
      }
    }
  }
  return 0;
}

}  // namespace
}  // namespace edgerig

int main(int argc, char** argv) {
  mallopt(M_TRIM_THRESHOLD, 512 << 20);  // as edgerig-agent
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  const int rounds = argc > 1 ? std::max(5, std::atoi(argv[1])) : 40;
  return edgerig::run(rounds);
}
