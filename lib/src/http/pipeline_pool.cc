#include "http/pipeline_pool.h"

#include <chrono>

namespace faceatt::http {

// How long a request waits for a free pipeline before 503 (it already holds a
// place in the bounded queue).
constexpr int64_t kQueueWaitMs = 30'000;

PipelinePool::PipelinePool(const Models& models, const PipelineOptions& options, int workers,
                           int queue_length)
    : max_waiting_(queue_length) {
  PipelineOptions o = options;
  o.two_threads = true;
  for (int i = 0; i < workers; ++i) {
    free_.push_back(models.NewPipeline());
    free_.back()->set_options(o);
  }
}

Result<PipelinePool::Lease> PipelinePool::Acquire() {
  std::unique_lock lock(mu_);
  if (free_.empty()) {
    if (waiting_ >= max_waiting_)
      return Status::Unavailable("server busy: every pipeline is working and the queue is full");
    ++waiting_;
    const bool got =
        cv_.wait_for(lock, std::chrono::milliseconds(kQueueWaitMs), [&] { return !free_.empty(); });
    --waiting_;
    if (!got) return Status::Unavailable("server busy: no pipeline became free in time");
  }
  auto p = std::move(free_.back());
  free_.pop_back();
  return Lease(this, std::move(p));
}

int PipelinePool::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

void PipelinePool::Return(std::unique_ptr<FacePipeline> p) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(p));
  }
  cv_.notify_one();
}

}  // namespace faceatt::http
