// Writes the seed corpora of fuzz_agent_dispatch and fuzz_sparse with the real encoders (a
// build with torch: `cmake --build build --target record_core_seeds`, then
// `build/fuzz/record_core_seeds fuzz/corpora`):
// - agent_dispatch: programs of controller commands as the controller makes them (every fault
//   of every experiment in resources/experiments, by toFaultCommand; a link probe request; peer
//   addresses) and the probe chunks a peer sends;
// - sparse: the shares SparsePushNode makes of lenet5 and mlp, top-k and random-k, and top-k in
//   the compact encoding, each message built as sparse-push's worker builds it.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/decentralized/sparse_push/sparse_push_node.h"
#include "core/algorithms/decentralized/sparse_push/sparse_push_worker.h"
#include "core/catalog/catalog.h"
#include "core/controller/fault_schedule.h"
#include "core/model/layer_chain.h"
#include "core/model/tensor_codec.h"
#include "decentralized.pb.h"

using namespace edgerig;
namespace fs = std::filesystem;

namespace {

void save(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

// A step of fuzz_agent_dispatch's program: [who][length, 2 bytes][Envelope].
std::string step(uint8_t who, const wire::Envelope& env) {
  const std::string body = env.SerializeAsString();
  std::string s;
  s += static_cast<char>(who);
  s += static_cast<char>(body.size() & 0xff);
  s += static_cast<char>((body.size() >> 8) & 0xff);
  return s + body;
}

void dispatchSeeds(const fs::path& out, const fs::path& experiments) {
  int n = 0;
  const ExperimentNames names = knownNames();
  for (const auto& entry : fs::recursive_directory_iterator(experiments)) {
    if (entry.path().extension() != ".json") continue;
    auto c = loadExperiment(entry.path().string(), names);
    if (!c || c->faults.empty()) continue;
    std::string program;
    for (const auto& f : c->faults) {
      wire::Envelope env;
      *env.mutable_fault() = toFaultCommand(f);
      program += step(1, env);
    }
    save(out, "faults-" + entry.path().stem().string(), program);
    ++n;
  }
  // A probe round as the controller's link probe asks for it, and the burst a peer sends.
  wire::Envelope request;
  auto* p = request.mutable_probe_request();
  p->set_probe_id(3);
  p->set_device(0);
  for (int d = 0; d < 4; ++d) p->add_peers("127.0.0.1:" + std::to_string(40000 + d));
  p->add_targets(1);
  p->set_chunks(32);
  p->set_chunk_bytes(32u << 10);
  wire::Envelope peers;
  for (int d = 0; d < 4; ++d) {
    peers.mutable_peer_addresses()->add_peers("127.0.0.1:" + std::to_string(40000 + d));
  }
  std::string burst = step(1, request) + step(1, peers);
  for (uint32_t k = 0; k < 8; ++k) {
    wire::Envelope chunk;
    auto* d = chunk.mutable_probe_data();
    d->set_probe_id(3);
    d->set_from(0);
    d->set_to(1);
    d->set_chunks(8);
    d->set_seq(k);
    d->mutable_payload()->assign(64, '\0');
    burst += step(2, chunk);
  }
  save(out, "probe-round", burst);
  wire::Envelope stop;
  stop.mutable_stop_run()->set_reason("stopped on request");
  wire::Envelope fetch;
  fetch.mutable_fetch_state()->set_optimizer(true);
  save(out, "stop-fetch", step(1, fetch) + step(1, stop));
  std::printf("agent_dispatch: %d fault programs, 2 probe/control programs\n", n);
}

void sparseSeeds(const fs::path& out) {
  int n = 0;
  for (const std::string model : {"lenet5", "mlp"}) {
    auto chain = LayerChain::build(model, 5);
    if (!chain) continue;
    std::vector<torch::Tensor> z;
    for (int i = 0; i < chain->numLayers(); ++i) {
      for (const auto& t : chain->layer(i)->parameters()) z.push_back(t.detach().clone());
    }
    const int64_t parameters = chain->parameterCount();
    if (parameters >= (1 << 20)) continue;  // the fuzzer's size prefix holds 20 bits
    for (auto [kind, compact] :
         {std::pair{Compression::kTopK, false}, std::pair{Compression::kRandomK, false},
          std::pair{Compression::kTopK, true}}) {
      SparsePushNode::Options o;
      o.k = 0.01;
      o.compression = kind;
      o.seed = 11;
      o.half_values = compact;
      SparsePushNode node(o, z);
      for (auto& t : z) t.add_(torch::randn_like(t), 0.01);  // a local step's change
      node.numeratorsOf(z);
      for (auto& share : node.share(0, {{1, 0.5}})) {
        decentralized::SparseShare body;
        body.set_iteration(0);
        body.set_graph_epoch(1);
        body.set_weight(share.weight);
        if (compact) encodeCompact(share.delta, body);
        wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kGossip, body);
        m.set_from(0);
        if (!compact) {
          appendTensor(m, share.delta.indices);
          appendTensor(m, share.delta.values);
        }
        std::string prefix;
        prefix += static_cast<char>(parameters & 0xff);
        prefix += static_cast<char>((parameters >> 8) & 0xff);
        prefix += static_cast<char>((parameters >> 16) & 0x0f);
        save(out,
             model + (compact                      ? "-compact"
                      : kind == Compression::kTopK ? "-topk"
                                                   : "-randomk"),
             prefix + m.SerializeAsString());
        ++n;
      }
    }
  }
  std::printf("sparse: %d shares\n", n);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: record_core_seeds OUT_DIR (e.g. fuzz/corpora)\n");
    return 2;
  }
  const fs::path out = argv[1];
  dispatchSeeds(out / "agent_dispatch", fs::path(EDGERIG_SOURCE_DIR) / "resources/experiments");
  sparseSeeds(out / "sparse");
  return 0;
}
