// Mutex / MutexLock: std::mutex with Clang thread-safety annotations, so shared state can be
// declared EDS_GUARDED_BY(mu_) and the compiler checks every access (clang -Wthread-safety).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define EDS_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define EDS_THREAD_ANNOTATION(x)
#endif

#define EDS_CAPABILITY(x) EDS_THREAD_ANNOTATION(capability(x))
#define EDS_SCOPED_CAPABILITY EDS_THREAD_ANNOTATION(scoped_lockable)
#define EDS_GUARDED_BY(x) EDS_THREAD_ANNOTATION(guarded_by(x))
#define EDS_ACQUIRE(...) EDS_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define EDS_RELEASE(...) EDS_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define EDS_REQUIRES(...) EDS_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EDS_EXCLUDES(...) EDS_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define EDS_ASSERT_CAPABILITY(x) EDS_THREAD_ANNOTATION(assert_capability(x))

namespace eds {

class EDS_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() EDS_ACQUIRE() { mu_.lock(); }
  void Unlock() EDS_RELEASE() { mu_.unlock(); }
  // Tells the analysis that the caller holds this mutex, in a function whose caller takes it but
  // whose declaration cannot name it (a member of a class behind a pointer to an incomplete type).
  void AssertHeld() const EDS_ASSERT_CAPABILITY(this) {}
  // For condition variables: the underlying std::mutex.
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

class EDS_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) EDS_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() EDS_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Waits on `cv` with the lock held (released while waiting), until pred() holds.
  template <typename Pred>
  void Wait(std::condition_variable& cv, Pred pred) {
    std::unique_lock<std::mutex> lock(mu_.native(), std::adopt_lock);
    cv.wait(lock, pred);
    lock.release();
  }
  // As Wait, for at most `timeout`; returns pred().
  template <typename Rep, typename Period, typename Pred>
  bool WaitFor(std::condition_variable& cv, std::chrono::duration<Rep, Period> timeout, Pred pred) {
    std::unique_lock<std::mutex> lock(mu_.native(), std::adopt_lock);
    const bool met = cv.wait_for(lock, timeout, pred);
    lock.release();
    return met;
  }

 private:
  Mutex& mu_;
};

}  // namespace eds
