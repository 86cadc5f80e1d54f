// RunOnLargeStack: runs a request handler on a thread with a full-size stack. Debian 12's CivetWeb
// gives its worker threads 100 KiB stacks (pthread_attr_setstacksize(0x19000), fixed when the
// package was built), too little for recursive JSON handling in unoptimised or instrumented
// builds. Each CivetWeb worker gets one companion thread, started on its first request and
// joined when the worker ends; the worker waits while its companion runs the handler.
#pragma once

#include <functional>

namespace eds::webadmin::internal {

// Runs `fn` on the calling thread's companion and returns once it has run. `fn` must not throw.
void RunOnLargeStack(const std::function<void()>& fn);

}  // namespace eds::webadmin::internal
