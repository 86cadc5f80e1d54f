#include "webadmin/internal/large_stack.h"

#include <pthread.h>

#include <condition_variable>

#include "common/log.h"
#include "common/mutex.h"

namespace eds::webadmin::internal {
namespace {

// The companions' stacks: the usual thread stack (8 MiB), whatever the process's stack limit.
constexpr size_t kHandlerStackBytes = 8u << 20;

// One per calling thread: a thread that runs the caller's jobs one at a time.
class Companion {
 public:
  Companion() {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, kHandlerStackBytes);
    started_ = pthread_create(&thread_, &attr, &Companion::Main, this) == 0;
    pthread_attr_destroy(&attr);
    if (!started_) LogWarning("no handler thread; handling requests on the server's own thread");
  }
  ~Companion() {
    if (!started_) return;
    {
      MutexLock lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    pthread_join(thread_, nullptr);
  }
  Companion(const Companion&) = delete;
  Companion& operator=(const Companion&) = delete;

  void Run(const std::function<void()>& fn) {
    if (!started_) return fn();
    MutexLock lock(mu_);
    job_ = &fn;
    cv_.notify_all();
    lock.Wait(cv_, [&]() EDS_REQUIRES(mu_) { return job_ == nullptr; });
  }

 private:
  static void* Main(void* self) {
    static_cast<Companion*>(self)->Loop();
    return nullptr;
  }
  void Loop() {
    MutexLock lock(mu_);
    for (;;) {
      lock.Wait(cv_, [&]() EDS_REQUIRES(mu_) { return stop_ || job_ != nullptr; });
      if (job_ != nullptr) {
        (*job_)();  // under the lock: the caller only waits for it
        job_ = nullptr;
        cv_.notify_all();
      } else if (stop_) {
        return;
      }
    }
  }

  pthread_t thread_{};
  bool started_ = false;
  Mutex mu_;
  std::condition_variable cv_;
  const std::function<void()>* job_ EDS_GUARDED_BY(mu_) = nullptr;
  bool stop_ EDS_GUARDED_BY(mu_) = false;
};

}  // namespace

void RunOnLargeStack(const std::function<void()>& fn) {
  thread_local Companion companion;
  companion.Run(fn);
}

}  // namespace eds::webadmin::internal
