// eds-tuf-client: the TUF conformance suite's client protocol (see conformance_client.h).
#include <string>
#include <vector>

#include "update/conformance_client.h"

int main(int argc, char** argv) {
  return eds::update::RunConformanceClient(std::vector<std::string>(argv + 1, argv + argc));
}
