#include "faceatt/gallery_sync.h"

#include <spdlog/spdlog.h>

namespace faceatt {

GallerySync::GallerySync(FaceService* service, PeopleStore* store, const Clock* clock)
    : service_(service), store_(store), clock_(clock) {}

GallerySync::~GallerySync() { Stop(); }

Status GallerySync::Reload(int64_t version) {
  FACEATT_RETURN_IF_ERROR(service_->Reload());
  std::lock_guard lock(mu_);
  state_.version = version;
  state_.synced_at_ms = clock_->NowMillis();
  state_.error.clear();
  ++state_.reloads;
  failed_ = false;
  return Status::Ok();
}

Status GallerySync::Start() {
  FACEATT_ASSIGN_OR_RETURN(int64_t version, store_->GalleryVersion());
  FACEATT_RETURN_IF_ERROR(Reload(version));
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] {
    for (;;) {
      Status st = Step(kGallerySyncWaitMs);
      std::unique_lock lock(mu_);
      if (!st.ok()) cv_.wait_for(lock, std::chrono::milliseconds(kGallerySyncRetryMs));
      if (stop_) return;
    }
  });
  return Status::Ok();
}

void GallerySync::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Status GallerySync::Step(int wait_ms) {
  int64_t known;
  bool failed;
  {
    std::lock_guard lock(mu_);
    known = state_.version;
    failed = failed_;
  }
  auto version = store_->WaitForGalleryChange(known, failed ? 0 : wait_ms);
  Status st = version.status();
  if (version.ok()) {
    if (*version != known || failed) {
      st = Reload(*version);
      if (st.ok()) spdlog::debug("gallery reloaded at version {}", *version);
    } else {
      std::lock_guard lock(mu_);
      state_.synced_at_ms = clock_->NowMillis();
    }
  }
  if (!st.ok()) {
    std::lock_guard lock(mu_);
    if (state_.error != st.message()) spdlog::warn("gallery sync: {}", st.message());
    state_.error = st.message();
    failed_ = true;
  }
  return st;
}

GallerySyncState GallerySync::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

}  // namespace faceatt
