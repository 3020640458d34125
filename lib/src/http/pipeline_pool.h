// PipelinePool: one FacePipeline per server worker (dlib objects are not
// thread-safe); a request leases one and gives it back when the lease ends.
// Requests that find none free wait in a bounded queue.
//
// Thread safety: Acquire and waiting() from any thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "faceatt/pipeline.h"
#include "faceatt/status.h"

namespace faceatt::http {

class PipelinePool {
 public:
  // `workers` pipelines with `options` (two threads each: one client's request
  // gets both cores; several share them); at most `queue_length` waiters.
  PipelinePool(const Models& models, const PipelineOptions& options, int workers, int queue_length);

  class Lease {
   public:
    Lease(PipelinePool* pool, std::unique_ptr<FacePipeline> p) : pool_(pool), p_(std::move(p)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (p_) pool_->Return(std::move(p_));
    }
    FacePipeline& operator*() { return *p_; }

   private:
    PipelinePool* pool_;
    std::unique_ptr<FacePipeline> p_;
  };

  // A free pipeline; kUnavailable when the queue is full or none became free
  // within kQueueWaitMs.
  Result<Lease> Acquire();
  // Requests waiting for a pipeline now.
  int waiting() const;

 private:
  void Return(std::unique_ptr<FacePipeline> p);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<FacePipeline>> free_;
  int waiting_ = 0;
  int max_waiting_;
};

}  // namespace faceatt::http
