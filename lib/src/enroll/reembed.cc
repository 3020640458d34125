#include "faceatt/reembed.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "faceatt/image.h"

namespace faceatt {
namespace {

namespace fs = std::filesystem;

// One enrollment photo: its rows of every model share the sha256 of the photo
// (or, for rows without one, the files they point to).
std::string PhotoKey(const StoredEmbedding& e) {
  if (!e.source_sha256.empty()) return "sha:" + e.source_sha256;
  if (!e.crop_path.empty()) return "crop:" + e.crop_path;
  if (!e.source_path.empty()) return "source:" + e.source_path;
  return "row:" + std::to_string(e.id);
}

std::string PhotoName(const StoredEmbedding& e) {
  if (!e.source_path.empty()) return e.source_path;
  if (!e.crop_path.empty()) return e.crop_path;
  return "embedding " + std::to_string(e.id);
}

struct Chip {
  cv::Mat chip;
  std::string crop_path;  // data-folder-relative, where the chip is kept
  bool from_source = false;
};

class ChipFinder {
 public:
  ChipFinder(const Config& config, const DataDir& data, FacePipeline& pipeline)
      : limits_{config.image.max_bytes, config.image.max_pixels},
        data_(data),
        pipeline_(pipeline) {}

  // The chip of one photo from any of its rows, or why there is none.
  Result<Chip> Find(const std::vector<const StoredEmbedding*>& rows) {
    std::vector<std::string> why;
    for (const StoredEmbedding* e : rows) {
      if (e->crop_path.empty()) continue;
      auto chip = FromCrop(e->crop_path);
      if (chip.ok()) return Chip{*chip, e->crop_path, false};
      why.push_back(chip.status().message());
    }
    for (const StoredEmbedding* e : rows) {
      if (e->source_path.empty()) continue;
      auto chip = FromSource(*e);
      if (chip.ok()) return chip;
      why.push_back(chip.status().message());
    }
    if (why.empty())
      return Status::NotFound(
          "neither an aligned chip nor a source photo was kept (uploaded "
          "before faceatt kept chips): enroll this person again");
    std::string all;
    for (const auto& w : why) all += (all.empty() ? "" : "; ") + w;
    return Status::NotFound(all);
  }

 private:
  Result<cv::Mat> FromCrop(const std::string& stored) {
    const std::string path = data_.Absolute(stored);
    if (!fs::exists(path)) return Status::NotFound("aligned chip " + stored + " is missing");
    auto bytes = ReadFileBytes(path, limits_.max_bytes);
    if (!bytes.ok()) return bytes.status().WithPrefix("aligned chip " + stored);
    auto chip = DecodeImage(*bytes, limits_, stored);
    if (!chip.ok()) return chip.status().WithPrefix("aligned chip " + stored);
    if (chip->rows != kChipSize || chip->cols != kChipSize || chip->type() != CV_8UC3)
      return Status::BadInput("aligned chip " + stored + " is not a 150x150 colour image");
    return *chip;
  }

  Result<Chip> FromSource(const StoredEmbedding& e) {
    const std::string path = data_.Absolute(e.source_path);
    const std::string what = "source photo " + e.source_path;
    if (!fs::exists(path)) return Status::NotFound(what + " is missing");
    FACEATT_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(path, limits_.max_bytes));
    const std::string sha = Sha256Hex(bytes);
    // Another picture under the same name would give someone else's face.
    if (!e.source_sha256.empty() && sha != e.source_sha256)
      return Status::BadInput(what + " has changed since it was enrolled");
    auto image = DecodeImage(bytes, limits_, e.source_path);
    if (!image.ok()) return image.status().WithPrefix(what);
    AnalyzeOptions opts;
    opts.embed = false;
    opts.keep_chips = true;
    auto faces = pipeline_.Analyze(*image, opts);
    if (!faces.ok()) return faces.status().WithPrefix(what);
    if (faces->empty()) return Status::BadInput("no face found in " + what);
    Chip out{faces->front().chip, "", true};  // largest first, as enroll --largest
    // Keep the chip, so the next model change needs no source photo.
    const std::string crop = data_.Absolute(kDefaultCropDir) + "/" + sha.substr(0, 16) + ".png";
    auto png = EncodePng(out.chip);
    if (png.ok() && WriteFileAtomic(crop, *png).ok()) out.crop_path = data_.Relative(crop);
    return out;
  }

  ImageLimits limits_;
  const DataDir& data_;
  FacePipeline& pipeline_;
};

}  // namespace

Result<ReembedSummary> Reembed(const Config& config, FaceService& service, FacePipeline& pipeline,
                               const ReembedOptions& options) {
  const std::string model = service.model_id();
  if (pipeline.embedder().model_id() != model)
    return Status::InvalidArgument("the pipeline runs " + pipeline.embedder().model_id() +
                                   ", not " + model);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  Store& store = service.store();
  ChipFinder finder(config, service.data_dir(), pipeline);
  ReembedSummary s;
  s.model_id = model;
  FACEATT_ASSIGN_OR_RETURN(const std::vector<User> users, store.ListUsers());
  s.people_total = static_cast<int>(users.size());
  for (size_t i = 0; i < users.size(); ++i) {
    const User& user = users[i];
    auto rows = store.ListEmbeddings(user.employee_id);
    if (!rows.ok() && rows.status().code() != Code::kNotFound) return rows.status();
    // Photos with no embedding of `model` yet, each with its rows of other models
    // (a person deleted meanwhile has none).
    std::map<std::string, std::vector<const StoredEmbedding*>> pending;
    std::set<std::string> done;
    if (rows.ok()) {
      for (const StoredEmbedding& e : *rows) {
        if (e.model_id == model)
          done.insert(PhotoKey(e));
        else
          pending[PhotoKey(e)].push_back(&e);
      }
    }
    for (const auto& key : done) pending.erase(key);

    std::vector<StoredEmbedding> fresh;
    std::vector<cv::Mat> chips;
    int failed = 0;
    for (const auto& [key, group] : pending) {
      auto chip = finder.Find(group);
      if (!chip.ok()) {
        s.failures.push_back(
            {user.employee_id, user.name, PhotoName(*group.front()), chip.status().message()});
        ++failed;
        continue;
      }
      StoredEmbedding e = *group.front();
      e.id = 0;
      e.model_id = model;
      e.crop_path = chip->crop_path;
      chips.push_back(chip->chip);
      fresh.push_back(std::move(e));
      (chip->from_source ? s.from_source : s.from_chip)++;
    }
    if (!chips.empty()) {
      FACEATT_ASSIGN_OR_RETURN(const std::vector<Embedding> vectors, pipeline.EmbedChips(chips));
      for (size_t k = 0; k < fresh.size(); ++k) fresh[k].vector = vectors[k];
      // One transaction per person: a stop between people loses nothing.
      FACEATT_RETURN_IF_ERROR(store.AddEmbeddings(user.employee_id, fresh)
                                  .WithPrefix("storing " + user.employee_id + "'s embeddings"));
      ++s.people_reembedded;
      s.embeddings_reembedded += static_cast<int>(fresh.size());
    }
    if (pending.empty()) ++s.people_skipped;
    if (failed > 0) ++s.people_failed;
    s.embeddings_failed += failed;
    if (options.progress)
      options.progress(
          {static_cast<int>(i + 1), s.people_total, s.embeddings_reembedded, elapsed()});
  }
  FACEATT_RETURN_IF_ERROR(service.Reload());
  s.seconds = elapsed();
  return s;
}

}  // namespace faceatt
