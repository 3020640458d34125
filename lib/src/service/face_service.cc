#include "faceatt/face_service.h"

#include <filesystem>
#include <mutex>
#include <opencv2/imgproc.hpp>

namespace faceatt {
namespace fs = std::filesystem;

cv::Mat MakeThumbnail(const cv::Mat& image, const Box& box, int size) {
  const double cx = (box.left + box.right) / 2.0, cy = (box.top + box.bottom) / 2.0;
  const double side = 1.6 * std::max(box.width(), box.height());
  cv::Rect r(static_cast<int>(cx - side / 2), static_cast<int>(cy - side / 2),
             static_cast<int>(side), static_cast<int>(side));
  r &= cv::Rect(0, 0, image.cols, image.rows);
  cv::Mat out;
  if (r.area() <= 0) return out;
  // Letterbox a clipped (non-square) crop onto grey so the thumbnail stays square.
  const int longest = std::max(r.width, r.height);
  cv::Mat square(longest, longest, image.type(), cv::Scalar(128, 128, 128));
  image(r).copyTo(
      square(cv::Rect((longest - r.width) / 2, (longest - r.height) / 2, r.width, r.height)));
  cv::resize(square, out, cv::Size(size, size), 0, 0,
             longest > size ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

FaceService::FaceService(const Config& config, std::string model_id, MatchDefaults defaults,
                         Store* store, DataDir data_dir)
    : config_(config),
      model_id_(std::move(model_id)),
      policy_(PolicyFromConfig(config, defaults)),
      store_(store),
      data_dir_(std::move(data_dir)) {}

Result<std::unique_ptr<FaceService>> FaceService::Open(const Config& config,
                                                       std::shared_ptr<const Models> models,
                                                       Store* store, DataDir data_dir) {
  // Every writer of the data folder starts here: a write killed midway left its
  // temporary behind (issue 12).
  data_dir.RemoveStaleTemporaries();
  auto service = std::make_unique<FaceService>(config, models->model_id(), models->defaults(),
                                               store, std::move(data_dir));
  FACEATT_RETURN_IF_ERROR(service->Reload());
  return service;
}

Status FaceService::Reload() {
  // Read before loading: a change made during the load shows as a newer version.
  FACEATT_ASSIGN_OR_RETURN(int64_t version, store_->GalleryVersion());
  FACEATT_ASSIGN_OR_RETURN(auto rows, store_->LoadEmbeddings(model_id_));
  FACEATT_ASSIGN_OR_RETURN(auto users, store_->ListUsers());
  FACEATT_ASSIGN_OR_RETURN(auto group_list, store_->ListGroups());
  std::map<std::string, std::set<std::string>> groups;
  for (auto& [group, ids] : group_list) groups[group].insert(ids.begin(), ids.end());
  Gallery gallery;
  for (const auto& e : rows) gallery.Add(e.employee_id, e.vector);
  std::unordered_map<std::string, std::string> names;
  for (const auto& u : users) names[u.employee_id] = u.name;
  std::unique_lock lock(mu_);
  if (version < loaded_version_) return Status::Ok();  // a concurrent reload saw more
  gallery_ = std::move(gallery);
  names_ = std::move(names);
  groups_ = std::move(groups);
  loaded_version_ = version;
  return Status::Ok();
}

bool FaceService::HasGroup(const std::string& group) const {
  std::shared_lock lock(mu_);
  return groups_.count(group) > 0;
}

bool FaceService::InGroup(const std::string& employee_id, const std::string& group) const {
  std::shared_lock lock(mu_);
  auto it = groups_.find(group);
  return it != groups_.end() && it->second.count(employee_id) > 0;
}

void FaceService::ForgetPerson(const std::string& employee_id) {
  std::unique_lock lock(mu_);
  gallery_.Remove(employee_id);
  names_.erase(employee_id);
}

size_t FaceService::people() const {
  std::shared_lock lock(mu_);
  return gallery_.people();
}
size_t FaceService::embeddings() const {
  std::shared_lock lock(mu_);
  return gallery_.embeddings();
}
Gallery FaceService::SnapshotGallery() const {
  std::shared_lock lock(mu_);
  return gallery_;
}
std::string FaceService::NameOf(const std::string& employee_id) const {
  std::shared_lock lock(mu_);
  auto it = names_.find(employee_id);
  return it == names_.end() ? "" : it->second;
}

ImageOutcome FaceService::Prepare(FacePipeline& pipeline, const EnrollImage& image, bool largest,
                                  std::optional<PreparedFace>* out) {
  ImageOutcome outcome;
  outcome.image = image.name;
  const ImageLimits limits{config_.image.max_bytes, config_.image.max_pixels};
  Result<std::string> bytes = image.bytes.empty() ? ReadFileBytes(image.name, limits.max_bytes)
                                                  : Result<std::string>(image.bytes);
  auto refuse = [&](const char* reason, std::string detail) {
    outcome.reason = reason;
    outcome.detail = std::move(detail);
    return outcome;
  };
  if (!bytes.ok()) return refuse(kBadInput, bytes.status().message());
  auto decoded = DecodeImage(*bytes, limits, image.name);
  if (!decoded.ok()) return refuse(kBadInput, decoded.status().message());
  const std::string sha = Sha256Hex(*bytes);
  auto owner = store_->FindImage(sha, model_id_);
  if (owner.ok() && owner->has_value())
    return refuse(kAlreadyEnrolled, "this image is already enrolled for " + **owner);
  // Only the face that is enrolled is embedded (the network is most of the
  // work): photos refused for their faces cost no network pass.
  AnalyzeOptions opts;
  opts.embed = false;
  opts.keep_chips = true;
  auto faces = pipeline.Analyze(*decoded, opts);
  if (!faces.ok()) return refuse(kBadInput, faces.status().message());
  if (faces->empty()) return refuse(kNoFace, "no face found");
  if (faces->size() > 1 && !largest)
    return refuse(kMultiFace, std::to_string(faces->size()) + " faces found (use --largest)");
  Face& face = faces->front();  // largest first
  outcome.box = face.box;
  if (!face.quality_issue.empty()) return refuse(kBadQuality, face.quality_issue);
  auto embedding = pipeline.EmbedChips({face.chip});
  if (!embedding.ok()) return refuse(kBadInput, embedding.status().message());
  face.embedding = embedding->front();
  face.has_embedding = true;
  PreparedFace prepared;
  prepared.image = image.name;
  prepared.sha256 = sha;
  prepared.thumbnail = MakeThumbnail(*decoded, face.box, config_.enroll.thumbnail_px);
  prepared.face = std::move(face);
  prepared.source_path = image.upload ? "" : image.name;
  out->emplace(std::move(prepared));
  outcome.accepted = true;
  return outcome;
}

std::optional<FaceIdentity> FaceService::ExistingOwner(const Embedding& embedding,
                                                       const std::string& except) const {
  // The tolerance alone decides: identify's margin rule exists to avoid naming
  // the wrong one of two close people, but for enrollment a face within the
  // tolerance of anyone else is already taken (issue 14: a photo 0.367 from its
  // enrolled copy went in as a new person because a second candidate was close).
  std::shared_lock lock(mu_);
  const auto all = gallery_.DistancesToPeople(embedding, policy_.mode);
  const Candidate* best = nullptr;
  for (const auto& c : all)
    if (c.employee_id != except && (!best || c.distance < best->distance)) best = &c;
  if (!best || best->distance > policy_.tolerance) return std::nullopt;
  FaceIdentity who;
  who.matched = true;
  who.employee_id = best->employee_id;
  auto it = names_.find(best->employee_id);
  who.name = it == names_.end() ? "" : it->second;
  who.distance = best->distance;
  who.threshold = static_cast<float>(policy_.tolerance);
  return who;
}

std::optional<float> FaceService::DistanceTo(const Embedding& embedding,
                                             const std::string& employee_id) const {
  std::shared_lock lock(mu_);
  if (!gallery_.Contains(employee_id)) return std::nullopt;
  for (const auto& c : gallery_.DistancesToPeople(embedding, policy_.mode))
    if (c.employee_id == employee_id) return c.distance;
  return std::nullopt;
}

Result<User> FaceService::Commit(const NewUser& user, bool add_to_existing,
                                 const std::vector<PreparedFace>& faces,
                                 const std::string& crop_dir) {
  // Files first, then one database transaction: a crash in between leaves only
  // unreferenced files (which fix-paths reports), never a half-enrolled person.
  std::vector<StoredEmbedding> rows;
  for (const auto& f : faces) {
    StoredEmbedding e;
    e.model_id = model_id_;
    e.vector = f.face.embedding;
    e.quality = f.face.sharpness;
    e.source_path = f.source_path.empty() ? "" : data_dir_.Relative(f.source_path);
    e.source_sha256 = f.sha256;
    const std::string thumb = data_dir_.thumbnails() + "/" + f.sha256.substr(0, 16) + ".jpg";
    FACEATT_ASSIGN_OR_RETURN(std::string jpeg, EncodeJpeg(f.thumbnail, 90));
    FACEATT_RETURN_IF_ERROR(WriteFileAtomic(thumb, jpeg));
    e.thumbnail_path = data_dir_.Relative(thumb);
    {
      // Always kept: `faceatt reembed` embeds this chip with a new model exactly
      // as the photo would be (PNG, lossless).
      const std::string crop = data_dir_.Absolute(crop_dir.empty() ? kDefaultCropDir : crop_dir) +
                               "/" + f.sha256.substr(0, 16) + ".png";
      auto png = EncodePng(f.face.chip);
      if (!png.ok()) return png.status().WithPrefix("the face crop of " + f.image);
      FACEATT_RETURN_IF_ERROR(WriteFileAtomic(crop, *png));
      e.crop_path = data_dir_.Relative(crop);
    }
    rows.push_back(std::move(e));
  }
  User stored;
  if (add_to_existing) {
    FACEATT_RETURN_IF_ERROR(store_->AddEmbeddings(user.employee_id, rows));
    FACEATT_ASSIGN_OR_RETURN(stored, store_->GetUser(user.employee_id));
  } else {
    FACEATT_ASSIGN_OR_RETURN(stored, store_->CreateUser(user, rows));
  }
  std::unique_lock lock(mu_);
  for (const auto& f : faces) gallery_.Add(stored.employee_id, f.face.embedding);
  names_[stored.employee_id] = stored.name;
  return stored;
}

Result<EnrollResult> FaceService::Enroll(FacePipeline& pipeline, const EnrollRequest& request) {
  EnrollResult result;
  bool existing = false;
  if (!request.employee_id.empty()) {
    FACEATT_RETURN_IF_ERROR(ValidateEmployeeId(request.employee_id));
    auto user = store_->GetUser(request.employee_id);
    if (user.ok()) {
      existing = true;
      result.user = *user;
    } else if (user.status().code() != Code::kNotFound) {
      return user.status();
    }
  }
  // An id that names nobody, and no name to create them with: a mistyped id.
  if (!existing && !request.employee_id.empty() && request.name.empty())
    return Status::NotFound("no person with employee id " + request.employee_id +
                            " (give --name to create them)");
  if (!existing) FACEATT_RETURN_IF_ERROR(ValidateName(request.name));
  // A name given with an existing id must be theirs: a mismatch is a mistyped
  // id (or a rename, which is `users update`), never silently ignored.
  if (existing && !request.name.empty() && request.name != result.user.name)
    return Status::InvalidArgument("employee id " + request.employee_id + " is " +
                                   result.user.name + ", not " + request.name +
                                   " (leave the name out to add photos; rename with `users rename` "
                                   "or PATCH /users/{id})")
        .WithReason(kNameMismatch);
  // Refused before any file is written (the store refuses it again, atomically).
  if (!existing && !request.employee_id.empty() && !request.reuse_retired_id) {
    FACEATT_ASSIGN_OR_RETURN(bool retired, store_->IsRetiredId(request.employee_id));
    if (retired) return RetiredIdRefused(request.employee_id);
  }
  if (request.images.empty()) return Status::InvalidArgument("no images given");

  std::vector<PreparedFace> faces;
  for (const auto& image : request.images) {
    std::optional<PreparedFace> prepared;
    result.outcomes.push_back(Prepare(pipeline, image, request.largest, &prepared));
    // Two photos in one request that are the same file count once.
    if (prepared) {
      bool repeat = false;
      for (const auto& f : faces) repeat |= f.sha256 == prepared->sha256;
      if (repeat) {
        result.outcomes.back().accepted = false;
        result.outcomes.back().reason = kAlreadyEnrolled;
        result.outcomes.back().detail = "same image given twice";
      } else {
        faces.push_back(std::move(*prepared));
      }
    }
  }
  if (faces.empty()) {
    std::string why;
    for (const auto& o : result.outcomes)
      why += (why.empty() ? "" : "; ") + o.image + ": " + o.reason +
             (o.detail.empty() ? "" : " (" + o.detail + ")");
    return Status::BadInput("no usable face in any image: " + why)
        .WithReason(result.outcomes.front().reason);
  }
  auto distance_text = [](float d) {
    char text[16];
    std::snprintf(text, sizeof text, "%.3f", d);
    return std::string(text);
  };
  // Other processes (serve nodes, CLI jobs) may have enrolled since this
  // gallery was loaded. Under the store's enrollment lock nobody else can
  // enroll, so after catching up the checks below see everyone, and the
  // same face enrolled at once on two nodes is refused on the second.
  FACEATT_ASSIGN_OR_RETURN(auto enrolling, store_->LockEnrollment());
  FACEATT_ASSIGN_OR_RETURN(int64_t caught_up, store_->GalleryVersion());
  int64_t loaded;
  {
    std::shared_lock lock(mu_);
    loaded = loaded_version_;
  }
  if (caught_up != loaded) {
    FACEATT_RETURN_IF_ERROR(Reload());
    std::shared_lock lock(mu_);
    caught_up = loaded_version_;
  }
  if (existing && !request.force) {
    // A photo added to someone must be their face: within the tolerance of
    // their current enrollment (a person with no embedding of this model, e.g.
    // awaiting reembed, has nothing to compare against).
    for (const auto& f : faces) {
      auto d = DistanceTo(f.face.embedding, request.employee_id);
      if (d && *d > policy_.tolerance)
        return Status::Conflict(f.image + ": this face is not " + request.employee_id + " (" +
                                result.user.name + "): distance " + distance_text(*d) +
                                " to their enrollment, tolerance " +
                                distance_text(static_cast<float>(policy_.tolerance)) +
                                "; force (--force, or force=true over HTTP) adds it anyway")
            .WithReason(kNotThisPerson);
    }
  }
  if (config_.enroll.check_duplicates && !request.force) {
    for (const auto& f : faces) {
      auto owner = ExistingOwner(f.face.embedding, existing ? request.employee_id : "");
      if (owner) {
        return Status::Conflict(f.image + ": this face is already enrolled as " +
                                owner->employee_id + " (" + owner->name + "), distance " +
                                distance_text(owner->distance) +
                                "; force (--force, or force=true over HTTP) enrolls it anyway")
            .WithReason(kEnrolledAsSomeoneElse);
      }
    }
  }
  NewUser user{existing ? result.user.employee_id : request.employee_id, request.name,
               request.department, request.reuse_retired_id};
  FACEATT_ASSIGN_OR_RETURN(result.user, Commit(user, existing, faces, request.crop_dir));
  // Commit added this enrollment to the gallery itself: no reload for it next
  // time. (A rename or deletion another process made meanwhile is skipped
  // here; GallerySync reloads for it, and until then it can only make the
  // duplicate check stricter.)
  if (auto after = store_->GalleryVersion(); after.ok()) {
    std::unique_lock lock(mu_);
    if (loaded_version_ == caught_up) loaded_version_ = *after;
  }
  result.created = !existing;
  result.accepted = static_cast<int>(faces.size());
  return result;
}

FaceIdentity FaceService::Decide(const Embedding& embedding, const IdentifyOptions& options) const {
  MatchPolicy p = policy_;
  if (options.tolerance) p.tolerance = *options.tolerance;
  if (options.top_k) p.top_k = *options.top_k;
  std::shared_lock lock(mu_);
  Match m;
  if (options.group.empty()) {
    m = gallery_.Search(embedding, p);
  } else {
    // Only the group's people are candidates: a copy of their rows (a class,
    // not the whole gallery), so the margin is measured among them too.
    auto members = groups_.find(options.group);
    static const std::set<std::string> kNobody;
    const std::set<std::string>& ids = members == groups_.end() ? kNobody : members->second;
    m = gallery_.Subset([&](const std::string& id) { return ids.count(id) > 0; })
            .Search(embedding, p);
  }
  FaceIdentity id;
  id.threshold = static_cast<float>(p.tolerance);
  id.distance = m.distance;
  id.matched = m.matched;
  auto name = [&](const std::string& e) {
    auto it = names_.find(e);
    return it == names_.end() ? std::string() : it->second;
  };
  if (m.matched) {
    id.employee_id = m.employee_id;
    id.name = name(m.employee_id);
  } else {
    id.reason = kUnknown;
    if (m.reason == "ambiguous") id.detail = "ambiguous";
  }
  for (const auto& c : m.candidates)
    id.candidates.push_back({c.employee_id, name(c.employee_id), c.distance});
  return id;
}

Result<Identification> FaceService::Identify(FacePipeline& pipeline, const cv::Mat& image,
                                             const IdentifyOptions& options) {
  if (!options.group.empty() && !HasGroup(options.group))
    return Status::NotFound("no group '" + options.group + "' (faceatt groups list)");
  FACEATT_ASSIGN_OR_RETURN(std::vector<Face> faces, pipeline.Analyze(image));
  Identification out;
  if (faces.empty()) out.reason = kNoFace;
  for (const Face& f : faces) {
    FaceIdentity id;
    if (f.has_embedding) {
      id = Decide(f.embedding, options);
    } else {
      id.reason = kBadQuality;
      id.detail = f.quality_issue;
      id.threshold = static_cast<float>(options.tolerance.value_or(policy_.tolerance));
    }
    id.box = f.box;
    out.faces.push_back(std::move(id));
  }
  return out;
}

}  // namespace faceatt
