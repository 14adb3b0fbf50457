// A lease for the length of one operation (containerd's client.WithLease): created with an
// expiry (so a crash leaves nothing held for ever), carried by client() for the operation's
// calls, deleted at the end. When the caller's client carries a lease already, that one is
// used and left alone. The caller's client is never changed.
//
//   BERTH_ASSIGN_OR_RETURN(TempLease lease, TempLease::Acquire(client));
//   Client& leased = lease.client();  // what it creates joins the lease
#pragma once

#include <chrono>
#include <utility>

#include "client/client.h"

namespace berth::client {

// Not thread-safe itself (one owner); the Client that client() returns is, as every Client.
class TempLease {
 public:
  static Result<TempLease> Acquire(const Client& caller,
                                   std::chrono::hours expiry = std::chrono::hours(24));
  TempLease(TempLease&& other) noexcept
      : client_(std::move(other.client_)), owned_(std::exchange(other.owned_, false)) {}
  TempLease& operator=(TempLease&&) = delete;
  TempLease(const TempLease&) = delete;
  ~TempLease();

  // The caller's client carrying the lease (the same connection and options otherwise).
  Client& client() { return client_; }

 private:
  TempLease(Client leased, bool owned) : client_(std::move(leased)), owned_(owned) {}
  Client client_;
  bool owned_;  // created here, deleted at the end (false: the caller's own lease)
};

}  // namespace berth::client
