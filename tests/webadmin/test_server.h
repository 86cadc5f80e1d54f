// Shared set-up for the admin server tests: a fresh temp dir with a development certificate and
// options for a server on 127.0.0.1 with an ephemeral port. Also points $EDS_SSL_SHIM at the
// shim built in this tree.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "tests/testing/temp_dir.h"
#include "tests/testing/tls_client.h"
#include "webadmin/admin_server.h"

namespace eds::webadmin {

// Sets $EDS_SSL_SHIM to the built shim unless the environment already names one.
void UseBuiltSslShim();

class AdminServerFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts `server_` with `options_` and a health function; fails the test on error.
  void StartServer();
  // A client that pins the dev certificate, with a bounded timeout.
  testing::TlsClientOptions ClientOptions() const;

  testing::TempDir dir_;
  std::string cert_path_;
  std::string key_path_;
  AdminServerOptions options_;
  std::unique_ptr<AdminServer> server_;
};

}  // namespace eds::webadmin
