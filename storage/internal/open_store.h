// Opening a store on a given RocksDB Env: the seam for fault-injection tests.
#pragma once

#include <rocksdb/env.h>

#include <memory>

#include "storage/store.h"

namespace eds::storage::internal {

// `env` must outlive the store; nullptr = the default Env.
Result<std::unique_ptr<Store>> OpenStoreWithEnv(const StoreOptions& options, SecretKey master_key,
                                                rocksdb::Env* env);

}  // namespace eds::storage::internal
