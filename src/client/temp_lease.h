// A lease for the length of one operation (containerd's client.WithLease): created with an
// expiry (so a crash leaves nothing held for ever), set on the client, deleted and unset at
// the end. When the client already has a lease, that one is used and left alone.
#pragma once

#include <chrono>
#include <string>

#include "client/client.h"

namespace berth::client {

class TempLease {
 public:
  static Result<TempLease> Acquire(Client& client, std::chrono::hours expiry = std::chrono::hours(24));
  TempLease(TempLease&& other) noexcept : client_(other.client_), id_(std::move(other.id_)) { other.id_.clear(); }
  TempLease& operator=(TempLease&&) = delete;
  TempLease(const TempLease&) = delete;
  ~TempLease();

 private:
  TempLease(Client& client, std::string id) : client_(client), id_(std::move(id)) {}
  Client& client_;
  std::string id_;  // "" when the client's own lease was kept
};

}  // namespace berth::client
