#include "core/data/dataset.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>

#include "core/model/layer_chain.h"

namespace edgerig {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // IDX: unsigned byte, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // IDX: unsigned byte, 1 dimension
constexpr const char* kDebianPackage = "dataset-fashion-mnist";

// Owns a gzFile; reads exactly what is asked or says why not.
class GzReader {
 public:
  explicit GzReader(std::string path) : path_(std::move(path)) {}
  ~GzReader() {
    if (file_ != nullptr) gzclose(file_);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  Status open() {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path_, ec)) {
      return notFound(path_ + " not found: install the Debian package " + kDebianPackage +
                      " (apt install " + kDebianPackage +
                      ") or point the data directory at the Fashion-MNIST IDX .gz files");
    }
    file_ = gzopen(path_.c_str(), "rb");
    if (file_ == nullptr) return unavailable("cannot open " + path_ + ": check its permissions");
    gzbuffer(file_, 1 << 17);
    return Status::ok();
  }

  Status read(void* out, size_t bytes, const char* what) {
    auto* p = static_cast<char*>(out);
    while (bytes > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(bytes, 1u << 30));
      const int got = gzread(file_, p, chunk);
      if (got <= 0 || static_cast<unsigned>(got) < chunk) {
        int code = Z_OK;
        const char* message = gzerror(file_, &code);
        std::string why = (got < 0 || code != Z_OK) ? std::string(message) : "file too short";
        return invalidArgument(path_ + " is truncated or corrupt while reading " + what + " (" +
                               why + "): reinstall " + kDebianPackage);
      }
      p += got;
      bytes -= static_cast<size_t>(got);
    }
    return Status::ok();
  }

  Result<uint32_t> readBigEndian32(const char* what) {
    std::array<unsigned char, 4> b{};
    if (Status st = read(b.data(), b.size(), what); !st) return st;
    return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

Status checkMagic(const GzReader& f, uint32_t got, uint32_t want) {
  if (got == want) return Status::ok();
  char text[64];
  std::snprintf(text, sizeof(text), "0x%08x instead of 0x%08x", got, want);
  return invalidArgument(f.path() + " has a bad IDX magic number (" + text +
                         "): it is not a Fashion-MNIST file of that kind");
}

// Reads the IDX header and the first `limit` records (all if limit <= 0) of `record_bytes` each.
Result<std::vector<uint8_t>> readIdx(const std::string& path, uint32_t magic, int64_t record_bytes,
                                     int64_t limit, int64_t* count) {
  GzReader f(path);
  if (Status st = f.open(); !st) return st;
  Result<uint32_t> got_magic = f.readBigEndian32("the magic number");
  if (!got_magic) return got_magic.status();
  if (Status st = checkMagic(f, *got_magic, magic); !st) return st;
  Result<uint32_t> n = f.readBigEndian32("the record count");
  if (!n) return n.status();
  if (magic == kImagesMagic) {
    Result<uint32_t> rows = f.readBigEndian32("the row count");
    if (!rows) return rows.status();
    Result<uint32_t> cols = f.readBigEndian32("the column count");
    if (!cols) return cols.status();
    if (*rows != kImageSize || *cols != kImageSize) {
      return invalidArgument(path + " holds " + std::to_string(*rows) + "×" +
                             std::to_string(*cols) + " images, not 28×28");
    }
  }
  const int64_t records = limit > 0 ? std::min<int64_t>(limit, *n) : int64_t{*n};
  std::vector<uint8_t> data(static_cast<size_t>(records * record_bytes));
  if (Status st = f.read(data.data(), data.size(), "the records"); !st) return st;
  *count = *n;
  return data;
}

std::string fileName(Split split, const char* kind) {
  return std::string(split == Split::kTrain ? "train" : "t10k") + "-" + kind + "-ubyte.gz";
}

}  // namespace

Result<Dataset> loadFashionMnist(const std::string& dir, Split split, int64_t limit) {
  const std::filesystem::path root(dir.empty() ? kFashionMnistDir : dir);
  const std::string images_path = (root / fileName(split, "images-idx3")).string();
  const std::string labels_path = (root / fileName(split, "labels-idx1")).string();
  constexpr int64_t kPixels = kImageSize * kImageSize;

  int64_t image_count = 0, label_count = 0;
  Result<std::vector<uint8_t>> pixels =
      readIdx(images_path, kImagesMagic, kPixels, limit, &image_count);
  if (!pixels) return pixels.status();
  Result<std::vector<uint8_t>> labels = readIdx(labels_path, kLabelsMagic, 1, limit, &label_count);
  if (!labels) return labels.status();
  if (image_count != label_count) {
    return invalidArgument(images_path + " has " + std::to_string(image_count) + " images but " +
                           labels_path + " has " + std::to_string(label_count) +
                           " labels: the files are from different sets");
  }
  for (size_t i = 0; i < labels->size(); ++i) {
    if ((*labels)[i] >= kNumClasses) {
      return invalidArgument(labels_path + " has label " + std::to_string((*labels)[i]) +
                             " at record " + std::to_string(i) + ", outside [0, 10)");
    }
  }
  try {
    const int64_t n = static_cast<int64_t>(labels->size());
    Dataset d;
    d.name = std::string("fashion-mnist/") + (split == Split::kTrain ? "train" : "test");
    d.images =
        torch::from_blob(pixels->data(), {n, kImageChannels, kImageSize, kImageSize}, torch::kUInt8)
            .to(torch::kFloat32)
            .div_(255.0)
            .sub_(kFashionMnistMean)
            .div_(kFashionMnistStd);
    d.labels = torch::from_blob(labels->data(), {n}, torch::kUInt8).to(torch::kInt64);
    return d;
  } catch (const std::exception& e) {
    return internalError("converting " + images_path + " to tensors failed: " + e.what());
  }
}

Result<Dataset> loadDataset(const std::string& name, const std::string& dir, Split split,
                            int64_t limit, int64_t synthetic_size, uint64_t seed) {
  if (name == "fashion-mnist") return loadFashionMnist(dir, split, limit);
  if (name == "synthetic") {
    int64_t n = synthetic_size > 0 ? synthetic_size : (split == Split::kTrain ? 4096 : 1024);
    if (limit > 0) n = std::min(n, limit);
    return makeSynthetic(n, split, seed);
  }
  return notFound("unknown dataset '" + name + "': choose one of fashion-mnist, synthetic");
}

Result<std::pair<torch::Tensor, torch::Tensor>> gatherBatch(const Dataset& d,
                                                            const std::vector<int64_t>& indices) {
  const int64_t n = d.size();
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] < 0 || indices[i] >= n) {
      return invalidArgument("sample index " + std::to_string(indices[i]) + " (position " +
                             std::to_string(i) + " of the batch) is outside " + d.name +
                             ", which has " + std::to_string(n) + " samples");
    }
  }
  try {
    torch::Tensor idx = torch::tensor(indices, torch::kInt64);
    return std::make_pair(d.images.index_select(0, idx), d.labels.index_select(0, idx));
  } catch (const std::exception& e) {
    return internalError("gathering a batch from " + d.name + " failed: " + e.what());
  }
}

}  // namespace edgerig
