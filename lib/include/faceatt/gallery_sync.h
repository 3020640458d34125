// GallerySync: keeps a serve node's in-memory gallery in step with the store
// when other processes change it (another serve node, a CLI enroll, reembed,
// users rename/delete, reset-users).
//
// A background thread waits for the store's gallery version to change
// (PeopleStore::WaitForGalleryChange) and then reloads the gallery, names and
// groups whole (FaceService::Reload). The version is read before the reload,
// so a change made during the reload is caught by the next wait. When the
// store fails (the database is unreachable) the thread retries every
// kGallerySyncRetryMs and reloads once it answers again, whatever the version
// says, so a node that missed changes while cut off catches up.
//
// state() tells /health what the node holds: the version its gallery was
// loaded at, when the node last confirmed that this is still the store's
// version (lag_ms grows while it cannot), and the last error ("" when fine).
//
// Thread safety: Start/Stop from one thread; state() from any.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "faceatt/clock.h"
#include "faceatt/face_service.h"
#include "faceatt/store.h"

namespace faceatt {

// How long one wait for a change lasts before the thread looks at its stop flag.
inline constexpr int kGallerySyncWaitMs = 500;
// After a store error: the next try (the database may be restarting).
inline constexpr int kGallerySyncRetryMs = 250;

struct GallerySyncState {
  int64_t version = 0;       // the store's gallery version the gallery was loaded at
  int64_t synced_at_ms = 0;  // last time the store confirmed that version (0: never)
  int64_t reloads = 0;       // reloads since Start
  std::string error;         // the last failure, "" once the store answers again
};

class GallerySync {
 public:
  GallerySync(FaceService* service, PeopleStore* store, const Clock* clock);
  ~GallerySync();  // Stop()

  // Reads the version and reloads the gallery once (so the node starts in step),
  // then starts the thread. An error of that first reload is returned (no thread).
  Status Start();
  void Stop();

  // One step of the thread: waits up to `wait_ms` for a change and reloads on
  // one (or after an earlier error). Returns the store's error, if any.
  Status Step(int wait_ms);

  GallerySyncState state() const;

 private:
  Status Reload(int64_t version);

  FaceService* service_;
  PeopleStore* store_;
  const Clock* clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  GallerySyncState state_;
  bool failed_ = false;  // the last step failed: reload on the next success
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace faceatt
